-- Change a sale's live status if its state exists; a pause stops the clock of every
-- turn the waiting room gave out, and the resume gives each back what it had left.
-- KEYS  1 state hash  2 queue:admitted  3 queue:expiry (waitingroom/lua/admit.lua)
-- ARGV  1 new status  2 ends_ms to write ('' = leave it)  3 now ms ('' = Redis TIME)
-- Returns the previous status, or false when the sale has no live state.
--
-- While paused the state holds paused_ms, the pause's start: a turn is still valid
-- while its expiry is after it (buy.lua, admit.lua and place.lua read time as
-- standing still there). On resume every turn still valid at the pause's start
-- moves by the pause's length, its hash entry and its place in queue:expiry alike.
local previous = redis.call('HGET', KEYS[1], 'status')
if not previous then return false end
local now_ms = tonumber(ARGV[3])
if not now_ms then
  local time = redis.call('TIME')
  now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
if ARGV[1] == 'paused' and previous ~= 'paused' then
  redis.call('HSET', KEYS[1], 'paused_ms', now_ms)
elseif previous == 'paused' and ARGV[1] ~= 'paused' then
  local paused_ms = tonumber(redis.call('HGET', KEYS[1], 'paused_ms'))
  redis.call('HDEL', KEYS[1], 'paused_ms')
  if paused_ms and now_ms > paused_ms and ARGV[1] ~= 'ended' then
    local shift = now_ms - paused_ms
    local admitted = redis.call('HGETALL', KEYS[2])
    for i = 1, #admitted, 2 do
      local nonce, expires_ms, ticket = string.match(admitted[i + 1], '^([^|]*)|(%d+)|(%d+)$')
      if expires_ms and tonumber(expires_ms) > paused_ms then
        local moved = tonumber(expires_ms) + shift
        redis.call('HSET', KEYS[2], admitted[i], nonce .. '|' .. moved .. '|' .. ticket)
        redis.call('ZADD', KEYS[3], moved, admitted[i])
      end
    end
  end
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[2] and ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ends_ms', ARGV[2]) end
return previous
