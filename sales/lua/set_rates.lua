-- Change a running sale's rates in its live state, if it has one: the token
-- bucket's rate and burst (buy.lua reads them on every buy) and the waiting
-- room's admission rate (waitingroom/lua/admit.lua reads it every tick).
-- KEYS[1] state hash; ARGV: field/value pairs among rate, burst, admission_rate.
-- Returns 1, or false when the sale has no live state (the caller re-arms it).
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
for i = 1, #ARGV, 2 do
  if ARGV[i] ~= 'rate' and ARGV[i] ~= 'burst' and ARGV[i] ~= 'admission_rate' then
    return redis.error_reply('not a rate: ' .. ARGV[i])
  end
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
