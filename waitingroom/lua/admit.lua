-- One admission tick of one sale's waiting room: atomic, so whoever runs it (one
-- leading admitter, or two for a moment during a hand-over) the queue advances by
-- the admission rate times the time since the last tick, never twice for one
-- stretch of time (the last tick's time is read and written here, on Redis's clock).
--
-- KEYS  1 state  2 queue:waiting  3 queue:gone  4 queue:admitted  5 queue:expiry
--       6 queue:serving  7 queue:stats  8 queue:addresses  9 queue:address_of  10 queue:polled
--       11 queue:draw  12 queue:turns
-- ARGV  1 now ms ('' = Redis TIME)   2 grace ms   3 presence ms   4 admission lifetime ms
--       5 nonce prefix (random, fresh each tick)   6 most places looked at per tick
--       7 longest stretch of time one tick may admit for, ms
--       8 the draw's seed (random, fresh each tick: used once, by the tick that draws)
--
-- A waiting shopper is (presence.lua records it):
--   present  not in gone (its websocket is open), or polled within presence ms;
--   held     its websocket closed, its polls stopped, or its page never came since
--            it joined: it keeps its place but is not admitted (no admission is spent
--            on a page that cannot receive it; a reload is back within a tick or two)
--            and the tick admits the present shoppers behind it;
--   skipped  gone longer than the grace period: its place is removed.
--
-- Decision order:
--   1. the sale: no state -> {'not_found'}. Its status as a shopper sees it (the
--      buy script's order): ended, scheduled, paused, sold_out, live;
--   2. ended: the queue is deleted (a closed queue holds no one), figures returned;
--   3. skip every shopper gone longer than the grace period, wherever it stands,
--      and forget admissions that expired unused (while paused, by the clock of the
--      pause's start: a pause stops every turn, sales/lua/set_status.lua);
--   4. not live (scheduled, paused, sold out): admit no one; the allowance restarts
--      when the sale goes live again (no burst banked during a pause);
--   4b. the first live tick after a pre-queue (join.lua: places given before the
--      start, up to queue:draw last_ticket) draws it: the pre-queue's shoppers still
--      waiting are shuffled (Fisher-Yates, each swap from SHA-1 of the seed and the
--      step: waitingroom/draw.py does the same in Python) and given the pre-queue's
--      tickets in that order. Recorded in queue:draw (drawn_ms, seed, entrants, and
--      SHA-1 digests of the order joined and the order drawn); every later arrival
--      holds a higher ticket, so it stands behind all of them;
--   5. allowance = carry + admission_rate x elapsed (elapsed capped by ARGV 7): its
--      whole part is how many to admit now, the fraction carries to the next tick;
--      never more than the units left minus the turns outstanding;
--   6. walk the queue from its head: admit each present shopper (admitted hash:
--      nonce|expires ms|ticket, single use, checked by orders/buy/buy.lua), pass over
--      held ones, until the allowance or ARGV 6 places looked at;
--   7. figures: serving (the highest ticket admitted so far), waiting, remaining,
--      the rate, admitted/skipped this tick, admitted per second (smoothed over ~5 s).
--
-- Returns {status, serving, waiting, remaining, admission_rate, admitted, skipped,
--          admitted_per_s (string), now ms, quantity (restocks raise it), draw, drawn ms}, or
--          {'not_found'}. draw: {drawn_ms, seed, entrants, joined_digest, drawn_digest}
--          while PostgreSQL has not recorded it (the admitter records it, then marks it
--          recorded), else {}.

local state = redis.call('HMGET', KEYS[1], 'status', 'remaining', 'admission_rate', 'starts_ms', 'ends_ms',
  'quantity', 'paused_ms')
if not state[1] then return {'not_found'} end

local now_ms = tonumber(ARGV[1])
if not now_ms then
  local time = redis.call('TIME')
  now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local grace_ms, presence_ms, lifetime_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local nonce_prefix, scan_limit, longest_ms = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])

local remaining, rate = tonumber(state[2]), tonumber(state[3])
local starts_ms, ends_ms = tonumber(state[4]) or 0, tonumber(state[5]) or 0
local status = state[1]
if status == 'ended' or (ends_ms > 0 and now_ms >= ends_ms) then
  status = 'ended'
elseif status == 'scheduled' or now_ms < starts_ms then
  status = 'scheduled'
elseif status ~= 'paused' and remaining <= 0 then
  status = 'sold_out'
end

local stats = redis.call('HMGET', KEYS[7], 'last_tick_ms', 'carry', 'admitted_per_s')
local last_tick_ms = tonumber(stats[1])
local elapsed_ms = 0
if last_tick_ms and now_ms > last_tick_ms then elapsed_ms = now_ms - last_tick_ms end

-- A place ends (admitted or skipped): the client address it was counted against gets it
-- back. Returns that address (false: none was recorded).
local function release_address(shopper)
  local address = redis.call('HGET', KEYS[9], shopper)
  if address then
    redis.call('HDEL', KEYS[9], shopper)
    if redis.call('HINCRBY', KEYS[8], address, -1) <= 0 then redis.call('HDEL', KEYS[8], address) end
  end
  return address
end

local skipped, admitted = 0, 0
if status == 'ended' then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[8], KEYS[9], KEYS[10], KEYS[12])
else
  -- 3. Skip the long gone: seen before the cutoff (score in [0, cutoff)), or never seen
  --    since a join before it (score -join ms in (-cutoff, 0)). Bounded per tick.
  local cutoff = now_ms - grace_ms
  local gone = redis.call('ZRANGEBYSCORE', KEYS[3], 0, '(' .. cutoff, 'LIMIT', 0, scan_limit)
  local never_seen = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. -cutoff, '(0', 'LIMIT', 0, scan_limit)
  for _, list in ipairs({gone, never_seen}) do
    for _, shopper in ipairs(list) do
      redis.call('ZREM', KEYS[3], shopper)
      redis.call('ZREM', KEYS[10], shopper)
      if redis.call('ZREM', KEYS[2], shopper) == 1 then
        skipped = skipped + 1
        release_address(shopper)
      end
    end
  end
  -- While paused, turns stand still at the pause's start (sales/lua/set_status.lua).
  local turn_now_ms = now_ms
  if state[1] == 'paused' and state[7] then turn_now_ms = tonumber(state[7]) end
  for _, shopper in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', turn_now_ms, 'LIMIT', 0, scan_limit)) do
    redis.call('ZREM', KEYS[5], shopper)
    local admission = redis.call('HGET', KEYS[4], shopper)
    local expires_ms = admission and tonumber(string.match(admission, '^[^|]*|(%d+)|'))
    if expires_ms and expires_ms <= turn_now_ms then redis.call('HDEL', KEYS[4], shopper) end
  end
end

-- 4b. The pre-queue's draw, once.
if status == 'live' then
  local draw = redis.call('HMGET', KEYS[11], 'last_ticket', 'drawn_ms')
  if draw[1] and not draw[2] then
    local page = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', draw[1], 'WITHSCORES')
    local order, tickets = {}, {}
    for i = 1, #page, 2 do
      order[#order + 1] = page[i]
      tickets[#tickets + 1] = page[i + 1]
    end
    local joined_digest = redis.sha1hex(table.concat(order, '\n'))
    local seed = ARGV[8]
    for i = #order, 2, -1 do
      -- 52 bits of SHA-1 (exact in a Lua number): j uniform in 1..i, bias below i / 2^52
      local j = 1 + tonumber(string.sub(redis.sha1hex(seed .. ':' .. i), 1, 13), 16) % i
      order[i], order[j] = order[j], order[i]
    end
    for i = 1, #order do redis.call('ZADD', KEYS[2], tickets[i], order[i]) end
    redis.call('HSET', KEYS[11], 'drawn_ms', now_ms, 'seed', seed, 'entrants', #order,
      'joined_digest', joined_digest, 'drawn_digest', redis.sha1hex(table.concat(order, '\n')))
  end
end

local carry = 0
if status == 'live' then
  -- 5. The allowance.
  local allowance = (tonumber(stats[2]) or 0) + rate * math.min(elapsed_ms, longest_ms) / 1000
  local to_admit = math.floor(allowance)
  -- Never more turns than units that could still be sold to them: what is left,
  -- minus the turns given out and not yet spent (each may buy). A turn that lapses
  -- or is spent frees its slot for the next shopper on a later tick.
  local room_for = remaining - redis.call('HLEN', KEYS[4])
  local capped = room_for < to_admit
  if capped then to_admit = math.max(0, room_for) end
  -- 6. From the head of the queue, a page at a time.
  local serving = tonumber(redis.call('GET', KEYS[6]) or '0')
  local looked, offset = 0, 0
  local expires_ms = now_ms + lifetime_ms
  while admitted < to_admit and looked < scan_limit do
    local page = redis.call('ZRANGE', KEYS[2], offset, offset + 99, 'WITHSCORES')
    if #page == 0 then break end
    for i = 1, #page, 2 do
      if admitted >= to_admit or looked >= scan_limit then break end
      looked = looked + 1
      local shopper, ticket = page[i], tonumber(page[i + 1])
      local present = not redis.call('ZSCORE', KEYS[3], shopper)
      if not present then
        local polled_ms = tonumber(redis.call('ZSCORE', KEYS[10], shopper))
        present = polled_ms ~= nil and now_ms - polled_ms <= presence_ms
      end
      if present then
        redis.call('ZREM', KEYS[2], shopper)
        redis.call('ZREM', KEYS[3], shopper)
        redis.call('ZREM', KEYS[10], shopper)
        redis.call('HSET', KEYS[4], shopper, nonce_prefix .. ticket .. '|' .. expires_ms .. '|' .. ticket)
        redis.call('ZADD', KEYS[5], expires_ms, shopper)
        -- A turn given: counted against the address for the rest of the sale (join.lua 5).
        local address = release_address(shopper)
        if address then redis.call('HINCRBY', KEYS[12], address, 1) end
        if ticket > serving then serving = ticket end
        admitted = admitted + 1
      else
        offset = offset + 1 -- held: keeps its place, the next page starts after it
      end
    end
  end
  if admitted > 0 then redis.call('SET', KEYS[6], serving) end
  -- Only a queue that could take the whole allowance carries its fraction: an empty
  -- (or all held) queue banks nothing for a crowd that arrives later.
  if admitted == to_admit and not capped then carry = allowance - to_admit end
end

-- 7. Figures.
local per_s = tonumber(stats[3]) or 0
if elapsed_ms > 0 then
  local instant = admitted * 1000 / elapsed_ms
  per_s = per_s + (instant - per_s) * (1 - math.exp(-elapsed_ms / 5000))
end
redis.call('HSET', KEYS[7], 'last_tick_ms', now_ms, 'carry', tostring(carry), 'admitted_per_s', tostring(per_s))
if admitted > 0 then redis.call('HINCRBY', KEYS[7], 'admitted_total', admitted) end
if skipped > 0 then redis.call('HINCRBY', KEYS[7], 'skipped_total', skipped) end
if status == 'ended' then
  -- An ended sale's figures go when its state does (sales/lua/expire.lua).
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[7], ttl)
    redis.call('PEXPIRE', KEYS[11], ttl)
  end
end
local draw = redis.call('HMGET', KEYS[11], 'drawn_ms', 'seed', 'entrants', 'joined_digest', 'drawn_digest',
  'recorded')
local unrecorded = {}
if draw[1] and not draw[6] then unrecorded = {draw[1], draw[2], draw[3], draw[4], draw[5]} end
return {
  status, tonumber(redis.call('GET', KEYS[6]) or '0'), redis.call('ZCARD', KEYS[2]), remaining, rate,
  admitted, skipped, string.format('%.3f', per_s), now_ms, tonumber(state[6]) or 0, unrecorded,
  tonumber(draw[1]) or 0,
}
