-- Join a sale's waiting room: one place per shopper, handed out in arrival order.
-- Atomic, so two tabs of one shopper joining at once still get one place.
--
-- KEYS  1 state  2 queue:seq  3 queue:waiting  4 queue:gone  5 queue:admitted
--       6 queue:addresses  7 queue:address_of  8 queue:serving  9 queue:draw
--       10 queue:turns
-- ARGV  1 shopper id   2 now ms ('' = Redis TIME)   3 client address, grouped ('' = none)
--       4 places one address may hold at once (0 = no cap)
--       5 the proof of work the shopper's cookie was minted with, bits ('' = not checked)
--
-- Decision order:
--   1. the sale: no state -> not_found; ended (or past its end) -> ended; sold out
--      -> sold_out. A closed queue takes no one. A paused sale takes joiners: they
--      keep their order for when it resumes. A sale not yet started takes them into
--      its pre-queue from queue_opens_ms on (before it: not_open): every place given
--      before the start is shuffled once at the start (admit.lua), so that arriving
--      early or refreshing fastest gives no edge; the last such place is recorded
--      (queue:draw last_ticket), and every later place comes after it;
--   2. already waiting -> the same ticket (a refresh or a reconnect keeps the place);
--   3. holding an admission not yet expired -> admitted (the page fetches its token);
--   4. the cookie carries less proof of work than the sale asks (proof_bits) ->
--      proof_required (the page solves the sale's challenge, waitingroom/proof.py);
--   5. the client address holds its cap of places at once -> address_full; or its
--      places and the turns it was given in this sale reach the sale's
--      admissions_per_address -> address_done (a bot minting cookies on one
--      address gets that many turns in the whole sale, whatever it does);
--   6. a new ticket at the back. Until its page connects or polls, the shopper
--      counts as absent since it joined (gone = -join ms): a bot that joins and
--      never listens is never admitted, and is skipped after the grace period.
--
-- Returns one of
--   {'waiting', ticket, ahead, serving, new (1/0)}   ahead: places before this one
--   {'admitted', ticket, expires ms}
--   {'not_open', queue opens ms}                     the pre-queue opens then
--   {outcome}                                        not_found, ended, sold_out, address_full,
--                                                    address_done, proof_required

local shopper = ARGV[1]
local state = redis.call('HMGET', KEYS[1], 'status', 'remaining', 'ends_ms', 'starts_ms', 'queue_opens_ms',
  'admissions_per_address', 'proof_bits')
local status = state[1]
if not status then return {'not_found'} end

local now_ms = tonumber(ARGV[2])
if not now_ms then
  local time = redis.call('TIME')
  now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local ends_ms = tonumber(state[3]) or 0
if status == 'ended' or (ends_ms > 0 and now_ms >= ends_ms) then return {'ended'} end
if status == 'sold_out' or tonumber(state[2]) <= 0 then return {'sold_out'} end
local before_start = status == 'scheduled' or now_ms < (tonumber(state[4]) or 0)
local opens_ms = tonumber(state[5]) or 0
if before_start and now_ms < opens_ms then return {'not_open', opens_ms} end

local function place(ticket, new)
  local ahead = redis.call('ZCOUNT', KEYS[3], '-inf', '(' .. ticket)
  local serving = tonumber(redis.call('GET', KEYS[8]) or '0')
  return {'waiting', ticket, ahead, serving, new}
end

local ticket = redis.call('ZSCORE', KEYS[3], shopper)
if ticket then return place(tonumber(ticket), 0) end

local admission = redis.call('HGET', KEYS[5], shopper)
if admission then
  local expires_ms, admitted_ticket = string.match(admission, '^[^|]*|(%d+)|(%d+)$')
  if tonumber(expires_ms) > now_ms then return {'admitted', tonumber(admitted_ticket), tonumber(expires_ms)} end
  redis.call('HDEL', KEYS[5], shopper) -- expired unused: the shopper starts again at the back
end

if ARGV[5] ~= '' and tonumber(ARGV[5]) < (tonumber(state[7]) or 0) then return {'proof_required'} end

local address, cap, turns_cap = ARGV[3], tonumber(ARGV[4]), tonumber(state[6]) or 0
if address ~= '' and (cap > 0 or turns_cap > 0) then
  local held = tonumber(redis.call('HGET', KEYS[6], address) or '0')
  if cap > 0 and held >= cap then return {'address_full'} end
  if turns_cap > 0 and held + tonumber(redis.call('HGET', KEYS[10], address) or '0') >= turns_cap then
    return {'address_done'}
  end
  redis.call('HINCRBY', KEYS[6], address, 1)
  redis.call('HSET', KEYS[7], shopper, address)
end

ticket = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], ticket, shopper)
if before_start then redis.call('HSET', KEYS[9], 'last_ticket', ticket) end -- a pre-queue place
redis.call('ZADD', KEYS[4], -now_ms, shopper)
return place(ticket, 1)
