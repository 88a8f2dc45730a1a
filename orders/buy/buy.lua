-- The buy decision: one script, one round trip, atomic. Redis runs one script
-- at a time, so every request sees the stock exactly as the previous one left it
-- (first come, first served; never below zero).
--
-- KEYS  1 state  2 bucket  3 users  4 idempotency record  5 ledger  6 pending  7 accepted keys
-- ARGV  1 order id (made by the caller)   2 user id   3 quantity   4 request fingerprint
--       5 idempotency key   6 sale id   7 '1' when a waiting-room admission bypasses the bucket
--
-- Decision order:
--   1. idempotency: a key already decided returns its record, touching nothing;
--   2. sale state and window: unknown, not started, paused, ended;
--   3. token bucket (refilled from Redis TIME): empty -> rate_limited;
--   4. stock: not enough left -> sold_out (before the per-user check, so that
--      while a sale is sold out every new request gets the same answer, which
--      lets web processes answer it from memory, see orders/buy/decision.py);
--   5. per-user limit;
--   6. reserve: decrement stock, count the user's units, write the reservation
--      to the ledger (the commit point of the order) and record the key.
-- Every decision from step 2 on is recorded under the idempotency key, except
-- the transient ones (unknown sale, rate_limited, the restock pause) so that a
-- retry can try again. The accepted keys set is what a web process needs to
-- answer sold_out from memory without ever contradicting an accepted key.
--
-- Returns one of
--   {'replay', record}                       record = fingerprint|outcome|order id|ms
--   {'accepted', message json, now ms}
--   {'rate_limited', retry after ms}
--   {'sold_out', accepted keys or false}     keys: a snapshot for the sold-out flag
--   {outcome}                                not_found, not_started, paused, ended, limit_reached

local seen = redis.call('GET', KEYS[4])
if seen then return {'replay', seen} end

local state = redis.call('HMGET', KEYS[1], 'status', 'remaining', 'per_user_limit', 'rate', 'burst',
  'starts_ms', 'ends_ms', 'reopen_ms', 'sku', 'unit_price', 'currency')
local status = state[1]
if not status then return {'not_found'} end

local time = redis.call('TIME')
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now_ms = math.floor(now_us / 1000)
local ends_ms = tonumber(state[7])

-- Keep the record as long as the sale plus a day (a week plus a day if it has no end).
local ttl = 86400 + 7 * 86400
if ends_ms > 0 then ttl = 86400 + math.max(0, math.ceil((ends_ms - now_ms) / 1000)) end

local function record(outcome, order_id)
  redis.call('SET', KEYS[4], ARGV[4] .. '|' .. outcome .. '|' .. (order_id or '') .. '|' .. now_ms, 'EX', ttl)
end

local outcome = nil
if status == 'ended' or (ends_ms > 0 and now_ms >= ends_ms) then
  outcome = 'ended'
elseif status == 'scheduled' or now_ms < tonumber(state[6]) then
  outcome = 'not_started'
elseif status == 'paused' then
  outcome = 'paused'
end
if outcome then
  record(outcome)
  return {outcome}
end

if ARGV[7] ~= '1' then
  local rate, burst = tonumber(state[4]), tonumber(state[5])
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
  local tokens = tonumber(bucket[1]) or burst
  local last_us = tonumber(bucket[2]) or now_us
  tokens = math.min(burst, tokens + math.max(0, now_us - last_us) * rate / 1000000)
  if tokens < 1 then
    redis.call('HSET', KEYS[2], 'tokens', tokens, 'ts', now_us)
    return {'rate_limited', math.ceil((1 - tokens) * 1000 / rate)}
  end
  redis.call('HSET', KEYS[2], 'tokens', tokens - 1, 'ts', now_us)
end

local quantity = tonumber(ARGV[3])
local remaining = tonumber(state[2])
if now_ms < tonumber(state[8] or '0') then
  return {'sold_out', false} -- a restock is reopening the sale (see restock.lua): transient
end
if remaining < quantity then
  record('sold_out')
  local snapshot = false
  if remaining <= 0 and redis.call('SCARD', KEYS[7]) <= 10000 then snapshot = redis.call('SMEMBERS', KEYS[7]) end
  return {'sold_out', snapshot}
end

local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if bought + quantity > tonumber(state[3]) then
  record('limit_reached')
  return {'limit_reached'}
end

redis.call('HINCRBY', KEYS[1], 'remaining', -quantity)
redis.call('HINCRBY', KEYS[1], 'sold', quantity)
redis.call('HINCRBY', KEYS[3], ARGV[2], quantity)
local message = cjson.encode({
  order_id = ARGV[1], sale_id = tonumber(ARGV[6]), sku = state[9], user_id = ARGV[2],
  quantity = quantity, unit_price = state[10], currency = state[11], accepted_at_ms = now_ms,
})
redis.call('HSET', KEYS[5], ARGV[1], message)
redis.call('ZADD', KEYS[6], now_ms, ARGV[1])
redis.call('SADD', KEYS[7], ARGV[5])
record('accepted', ARGV[1])
return {'accepted', message, now_ms}
