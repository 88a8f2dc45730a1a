-- Record whether a waiting shopper's page is there, for the admitter (admit.lua):
-- it admits a shopper only while its page can receive the admission, and skips
-- one gone longer than the grace period.
--
-- KEYS  1 queue:waiting  2 queue:gone  3 queue:polled
-- ARGV  1 shopper id   2 event   3 now ms ('' = Redis TIME)
--   connect     a websocket opened (or re-asserts itself): present until it closes
--   disconnect  a websocket closed: gone since now (held at once, a reload comes back)
--   poll        the polling page asked: present for a few seconds (admit.lua's
--               presence ms), and the grace period counts from now
-- Only a shopper holding a place is recorded: gone never lists anyone else.
-- Returns 1 when the shopper holds a place in the queue, else 0.

local shopper, event = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[1], shopper) then return 0 end
if event == 'connect' then
  redis.call('ZREM', KEYS[2], shopper)
  redis.call('ZREM', KEYS[3], shopper)
  return 1
end

local now_ms = tonumber(ARGV[3])
if not now_ms then
  local time = redis.call('TIME')
  now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
if event == 'poll' then
  -- An open websocket (not in gone) outranks a poll: it stays present until it closes.
  if redis.call('ZSCORE', KEYS[2], shopper) then
    redis.call('ZADD', KEYS[2], now_ms, shopper)
    redis.call('ZADD', KEYS[3], now_ms, shopper)
  end
elseif event == 'disconnect' then
  redis.call('ZADD', KEYS[2], now_ms, shopper)
  redis.call('ZREM', KEYS[3], shopper)
else
  return redis.error_reply('unknown presence event ' .. event)
end
return 1
