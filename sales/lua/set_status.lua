-- Change a sale's live status if its state exists.
-- KEYS[1] state hash; ARGV[1] new status; ARGV[2] optional ends_ms to write.
-- Returns the previous status, or false when the sale has no live state.
local previous = redis.call('HGET', KEYS[1], 'status')
if not previous then return false end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[2] and ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ends_ms', ARGV[2]) end
return previous
