-- Add units to a sale's live stock: remaining and quantity grow together, so
-- sold (= quantity - remaining) is untouched and nothing sold is sold again.
-- KEYS[1] state hash; ARGV[1] units to add (> 0).
-- Returns {remaining, quantity}, or false when the sale has no live state.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local added = tonumber(ARGV[1])
local remaining = redis.call('HINCRBY', KEYS[1], 'remaining', added)
local quantity = redis.call('HINCRBY', KEYS[1], 'quantity', added)
return {remaining, quantity}
