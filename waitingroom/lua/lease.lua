-- The admitters' lease: one of them leads (ticks the queues and broadcasts), the
-- others stand by and take over when the lease is not renewed in time.
--
-- KEYS  1 the lease (fg:admitter:lease)
-- ARGV  1 this admitter's id   2 'hold' or 'release'   3 lease length ms (hold)
--
-- hold:    the holder renews its lease; anyone takes a free one (SET NX PX).
-- release: only the holder lets go (a clean stop hands over at once).
-- Returns 1 when this admitter holds the lease afterwards (hold) or let it go
-- (release), else 0.

local holder = redis.call('GET', KEYS[1])
if ARGV[2] == 'release' then
  if holder == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
