-- Add units to a sale's live stock: remaining and quantity grow together, so
-- sold (= quantity - remaining) is untouched and nothing sold is sold again.
-- KEYS[1] state hash; ARGV[1] units to add (> 0); ARGV[2] reopen pause in ms.
-- A sold-out sale reopens only after the pause: web processes answer sold_out
-- from a flag that lives at most a second (orders/buy/decision.py), and no key may be
-- accepted while one of them could still answer sold_out from an old snapshot.
-- Returns {remaining, quantity}, or false when the sale has no live state.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local added = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'remaining')) <= 0 then
  local time = redis.call('TIME')
  local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('HSET', KEYS[1], 'reopen_ms', now_ms + tonumber(ARGV[2]))
end
local remaining = redis.call('HINCRBY', KEYS[1], 'remaining', added)
local quantity = redis.call('HINCRBY', KEYS[1], 'quantity', added)
return {remaining, quantity}
