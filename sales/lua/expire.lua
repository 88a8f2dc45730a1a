-- Let everything an ended sale leaves in Redis expire (sales.live.live_expire).
-- KEYS  1 state  2 bucket  3.. every other fixed key of the sale (users, ledger,
--       pending, accepted, the waiting room's queue)
-- ARGV  1 seconds to keep them  2, 3 the positions of the counts and latency keys in KEYS
-- The token bucket is written first if it does not exist (as full as a missing one
-- reads): buys after the end still pass through it (buy.lua checks the window
-- after the bucket), and a bucket they created would have no expiry. Idempotency
-- records expire by themselves (the sale's end plus a day).
-- Returns the number of keys given an expiry.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local time = redis.call('TIME')
  local burst = redis.call('HGET', KEYS[1], 'burst') or '1'
  redis.call('HSET', KEYS[2], 'tokens', burst, 'ts', tonumber(time[1]) * 1000000 + tonumber(time[2]))
end
-- The dashboard's counters likewise (buy.lua and each web process's tally add to
-- them after the end): made to exist, with a zero that changes no figure, so that
-- the expiry holds them too. KEYS[ARGV[2]] and KEYS[ARGV[3]]: counts and latency.
redis.call('HSETNX', KEYS[tonumber(ARGV[2])], 'ended', 0)
redis.call('HSETNX', KEYS[tonumber(ARGV[3])], 'sum_us', 0)
local expiring = 0
for _, key in ipairs(KEYS) do
  expiring = expiring + redis.call('EXPIRE', key, ARGV[1])
end
return expiring
