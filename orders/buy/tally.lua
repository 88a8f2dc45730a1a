-- One web process's tally of one sale, added once a second by its flushing thread
-- (orders/buy/tally.py): the outcomes it answered without buy.lua, and the
-- durations of its buys (a histogram).
--
-- KEYS  1 state  2 counts  3 latency
-- ARGV  1 n, then n pairs (outcome, count), then pairs (latency field, count)
--
-- A sale with no live state gets nothing: requests for ids nobody armed (answered
-- not_found, or refused before that) must not create keys.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[1])
for i = 2, 2 * n, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = 2 * n + 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1]) end
return 1
