-- The buy decision: one script, one round trip, atomic. Redis runs one script
-- at a time, so every request sees the stock exactly as the previous one left it
-- (first come, first served; never below zero).
--
-- One call decides a group of buys of one sale, in the group's order (group commit,
-- orders/buy/group.py): the buys one web process received while its previous call
-- was in flight. Each is decided by decide(), below, exactly as if it had come
-- alone; the group only shares the round trip.
--
-- KEYS  1 state  2 bucket  3 users  4 ledger  5 pending  6 accepted keys
--       7 queue:waiting  8 queue:admitted (the waiting room, waitingroom/lua/admit.lua)
--       9 counts (the live dashboard's counters, sales/keys.py)
--       10.. one idempotency record per buy of the group, in order
-- ARGV  10 per buy of the group, in order:
--       1 order id (made by the caller)   2 user id   3 quantity   4 request fingerprint
--       5 idempotency key   6 sale id   7 the admission's nonce ('' = none; the caller
--       checked the admission token's signature, orders/buy/admission.py)
--       8 a storefront shopper's merchant id ('' = not a storefront's shopper)
--       9 the client address (its IPv6 /64) of a hosted pages' shopper ('' = not counted:
--         a storefront's shopper, or demo mode)
--       10 the proof of work the shopper's cookie was minted with, in bits ('' = not
--         checked: not a hosted pages' shopper)
--
-- decide() sees one buy's keys and arguments in the layout of a single call:
--   KEYS  1 state  2 bucket  3 users  4 idempotency record  5 ledger  6 pending
--         7 accepted keys  8 queue:waiting  9 queue:admitted
--   ARGV  the buy's 10 arguments, as above
--
-- Decision order:
--   1. idempotency: a key already decided returns its record, touching nothing;
--   2. the sale: unknown, or a storefront's shopper of another merchant
--      (shopper_invalid, not recorded), or a hosted pages' shopper whose cookie was
--      minted with less proof of work than the sale asks (proof_required, not recorded:
--      the page solves the sale's challenge and buys again);
--   3. the way in, one of:
--      a. an admission (ARGV 7): it must be the one the admitter recorded for this
--         user, not expired, else admission_invalid (reused, expired, superseded).
--         It bypasses the bucket, and is spent (deleted) by this decision from step 5 on;
--      b. anyone waiting in the waiting room, and stock left -> rate_limited: a
--         newcomer goes to the back of the queue, nobody overtakes it through the
--         bucket (without stock, the request goes on to be told sold_out: a queue
--         left behind by the last unit must not turn the herd into 302s);
--      c. token bucket (refilled from Redis TIME): empty -> rate_limited;
--   4. the sale's window: not started, paused, ended. After the bucket, so that a
--      herd against a closed sale is slowed like any other, and not recorded, so
--      that a key refused before the start or during a pause buys once the sale is
--      open (and a herd of fresh keys leaves nothing behind);
--   5. stock: not enough left -> sold_out (before the per-user check, so that
--      while a sale is sold out every new request gets the same answer, which
--      lets web processes answer it from memory, see orders/buy/decision.py);
--   6. per-user limit, then the client address's (units_per_address, over all of the
--      hosted pages' shoppers behind it: address_limit_reached);
--   7. reserve: decrement stock, count the user's units, write the reservation
--      to the ledger (the commit point of the order) and record the key.
-- Only an accepted order is recorded under its idempotency key: a retry of it gets
-- the same order back, whatever the sale does after. A refusal records nothing (a
-- flood of fresh keys that are refused leaves nothing behind, and what one shopper
-- can store is bounded by the per-user limit): its retry is decided anew, and is
-- refused again for as long as the reason holds (a shopper's units never go down;
-- sold out until a restock). The accepted keys set is what a web process needs to
-- answer sold_out from memory without ever contradicting an accepted key.
--
-- Returns one result per buy of the group, in order, each one of
--   {'replay', record}                       record = fingerprint|outcome|order id|ms
--   {'accepted', message json, now ms}
--   {'rate_limited', retry after ms}
--   {'sold_out', accepted keys or false}     keys: a snapshot for the sold-out flag (sent
--                                            once per group: later ones say false)
--   {outcome}                                not_found, not_started, paused, ended, limit_reached,
--                                            admission_invalid, shopper_invalid, proof_required,
--                                            address_limit_reached
--
-- Counting (the live dashboard, /metrics): every decision but not_found adds one to
-- its outcome in the sale's counts hash ('replay' for a key decided before), with
-- one HINCRBY per outcome of the group at the end of the script: the only commands
-- counting adds to the hot path.
--
-- What the group shares (the hot path's Redis cost is its commands): the sale's state,
-- the clock and the waiting room's size are read once per call, the bucket is read
-- once and written once, and stock and units sold are written once, at the end. Each
-- buy sees them exactly as the buys before it in the group left them (`sale`, below,
-- is that running state): nothing else runs between the buys of one script. Per
-- buy, only what is its own: its idempotency record, its shopper's units, its
-- admission, and an accepted order's ledger entry and key. decide() is left
-- unindented so that it reads as the script it always was.

local sale = {}  -- the group's running view of the sale, read on first use

local function decide(KEYS, ARGV, snapshot_sent)
local seen = redis.call('GET', KEYS[4])
if seen then return {'replay', seen} end

local state = sale.state
local status = state[1]
if not status then return {'not_found'} end
-- A shop's token proves its own shoppers only (orders/buy/identity.py).
if ARGV[8] ~= '' and ARGV[8] ~= state[12] then return {'shopper_invalid'} end
-- A hosted pages' identity costs the proof of work the sale asks (waitingroom/proof.py).
if ARGV[10] ~= '' and tonumber(ARGV[10]) < (tonumber(state[16]) or 0) then return {'proof_required'} end

local now_us, now_ms, ttl = sale.now_us, sale.now_ms, sale.ttl
local ends_ms = tonumber(state[7])

local function record(outcome, order_id)
  redis.call('SET', KEYS[4], ARGV[4] .. '|' .. outcome .. '|' .. (order_id or '') .. '|' .. now_ms, 'EX', ttl)
end

local admitted = ARGV[7] ~= ''
if admitted then
  -- The admission, as the admitter recorded it: nonce|expires ms|ticket.
  local admission = redis.call('HGET', KEYS[9], ARGV[2])
  local nonce, expires_ms = string.match(admission or '', '^([^|]*)|(%d+)|')
  -- While paused a turn's clock stands still at the pause's start (sales/lua/set_status.lua):
  -- a turn that had time left then is still the shopper's, and is told 'paused' below.
  local turn_now_ms = now_ms
  if status == 'paused' and state[14] then turn_now_ms = tonumber(state[14]) end
  if nonce ~= ARGV[7] or tonumber(expires_ms) <= turn_now_ms then return {'admission_invalid'} end
else
  if sale.remaining >= tonumber(ARGV[3]) then
    if sale.waiting == nil then sale.waiting = redis.call('ZCARD', KEYS[8]) end
    if sale.waiting > 0 then
      return {'rate_limited', 1000} -- the waiting room is not empty: join it, at the back
    end
  end
  local rate = tonumber(state[4])
  if sale.tokens == nil then
    local burst = tonumber(state[5])
    local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
    local tokens = tonumber(bucket[1]) or burst
    local last_us = tonumber(bucket[2]) or now_us
    sale.tokens = math.min(burst, tokens + math.max(0, now_us - last_us) * rate / 1000000)
  end
  sale.bucket_touched = true
  if sale.tokens < 1 then
    return {'rate_limited', math.ceil((1 - sale.tokens) * 1000 / rate)}
  end
  sale.tokens = sale.tokens - 1
end

-- The window, not recorded (step 4).
if status == 'ended' or (ends_ms > 0 and now_ms >= ends_ms) then return {'ended'} end
if status == 'scheduled' or now_ms < tonumber(state[6]) then return {'not_started'} end
-- A sale that took its SKU over opens once no process routes the SKU to the old one.
if now_ms < tonumber(state[13] or '0') then return {'not_started'} end
if status == 'paused' then return {'paused'} end

local quantity = tonumber(ARGV[3])
local remaining = sale.remaining
if now_ms < tonumber(state[8] or '0') then
  return {'sold_out', false} -- a restock is reopening the sale (see restock.lua): transient
end
-- Single use: the admission is spent on this decision, whatever it is from here on
-- (and a retry of the same key replays it, at step 1, without the admission).
if admitted then redis.call('HDEL', KEYS[9], ARGV[2]) end
if remaining < quantity then
  local snapshot = false
  if remaining <= 0 and not snapshot_sent and redis.call('SCARD', KEYS[7]) <= 10000 then
    snapshot = redis.call('SMEMBERS', KEYS[7])
  end
  return {'sold_out', snapshot}
end

local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if bought + quantity > tonumber(state[3]) then
  return {'limit_reached'}
end
-- The address's units sit in the users hash too, under '@' + address (a user id never
-- starts with '@'): one more field, no more keys.
local address_cap = tonumber(state[15]) or 0
local address = ARGV[9] ~= '' and address_cap > 0 and ('@' .. ARGV[9]) or nil
if address then
  if tonumber(redis.call('HGET', KEYS[3], address) or '0') + quantity > address_cap then
    return {'address_limit_reached'}
  end
  redis.call('HINCRBY', KEYS[3], address, quantity)
end

sale.remaining = remaining - quantity
sale.sold = sale.sold + quantity
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
end

-- The group's shared reads (see above): the sale, and the clock.
sale.state = redis.call('HMGET', KEYS[1], 'status', 'remaining', 'per_user_limit', 'rate', 'burst',
  'starts_ms', 'ends_ms', 'reopen_ms', 'sku', 'unit_price', 'currency', 'merchant_id', 'opens_ms', 'paused_ms',
  'units_per_address', 'proof_bits')
sale.remaining = tonumber(sale.state[2])
sale.sold = 0
if sale.state[1] then
  local time = redis.call('TIME')
  sale.now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
  sale.now_ms = math.floor(sale.now_us / 1000)
  -- Keep the records as long as the sale plus a day (a week plus a day if it has no end).
  local ends_ms = tonumber(sale.state[7])
  sale.ttl = 86400 + 7 * 86400
  if ends_ms > 0 then sale.ttl = 86400 + math.max(0, math.ceil((ends_ms - sale.now_ms) / 1000)) end
end

local results, counts = {}, {}
local snapshot_sent = false
for i = 1, #KEYS - 9 do
  local first = (i - 1) * 10
  local decided = decide(
    {KEYS[1], KEYS[2], KEYS[3], KEYS[9 + i], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]},
    {ARGV[first + 1], ARGV[first + 2], ARGV[first + 3], ARGV[first + 4], ARGV[first + 5],
     ARGV[first + 6], ARGV[first + 7], ARGV[first + 8], ARGV[first + 9], ARGV[first + 10]},
    snapshot_sent)
  if decided[1] == 'sold_out' and decided[2] then snapshot_sent = true end
  -- An unknown sale is not counted: ids nobody armed get no keys.
  if decided[1] ~= 'not_found' then counts[decided[1]] = (counts[decided[1]] or 0) + 1 end
  results[i] = decided
end
-- The group's shared writes: the bucket, stock and units sold.
if sale.bucket_touched then
  redis.call('HSET', KEYS[2], 'tokens', sale.tokens, 'ts', sale.now_us)
end
if sale.sold > 0 then
  redis.call('HINCRBY', KEYS[1], 'remaining', -sale.sold)
  redis.call('HINCRBY', KEYS[1], 'sold', sale.sold)
end
for outcome, n in pairs(counts) do redis.call('HINCRBY', KEYS[9], outcome, n) end
return results
