-- Write a sale's live state, atomically.
-- KEYS[1] state hash
-- ARGV: status, initial_remaining, then field/value pairs of the configuration
--       (quantity, per_user_limit, rate, burst, admission_rate, starts_ms,
--       ends_ms, unit_price, currency, sku, merchant_id), and last 'opens_in_ms', n:
--       n > 0 when the sale takes its SKU over from another sale moments ago; it
--       then opens n ms from now (opens_ms, checked by buy.lua), never earlier
--       because of a later re-arm (0 leaves opens_ms as it is).
-- A sale that already has state keeps its stock figures (remaining, sold):
-- re-arming after a pause or a change of rates never resets stock. Only a sale
-- without state gets remaining = initial_remaining, sold = quantity - remaining.
-- Returns {remaining, sold, created (1/0)}.
local state = KEYS[1]
local status = ARGV[1]
local created = 0
if redis.call('EXISTS', state) == 0 then
  local quantity = 0
  for i = 3, #ARGV, 2 do
    if ARGV[i] == 'quantity' then quantity = tonumber(ARGV[i + 1]) end
  end
  local remaining = tonumber(ARGV[2])
  redis.call('HSET', state, 'remaining', remaining, 'sold', quantity - remaining)
  created = 1
end
for i = 3, #ARGV, 2 do
  if ARGV[i] == 'opens_in_ms' then
    if tonumber(ARGV[i + 1]) > 0 then
      local time = redis.call('TIME')
      local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      redis.call('HSET', state, 'opens_ms', now_ms + tonumber(ARGV[i + 1]))
    end
  -- quantity only grows through restock once stock exists
  elseif not (ARGV[i] == 'quantity' and created == 0) then
    redis.call('HSET', state, ARGV[i], ARGV[i + 1])
  end
end
redis.call('HSET', state, 'status', status)
return {tonumber(redis.call('HGET', state, 'remaining')), tonumber(redis.call('HGET', state, 'sold')), created}
