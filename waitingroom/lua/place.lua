-- Where a shopper stands in a sale's queue, read only (the polling page, the
-- websocket consumer when its ticket's turn may have come).
--
-- KEYS  1 queue:waiting  2 queue:admitted  3 queue:serving  4 the sale's state
-- ARGV  1 shopper id   2 now ms ('' = Redis TIME)
--
-- Returns one of
--   {'waiting', ticket, ahead, serving}     ahead: places before this one
--   {'admitted', ticket, expires ms, left ms, paused (1 or 0)}
--                                            an admission not yet spent nor expired; while
--                                            the sale is paused its clock stands still (left
--                                            ms counts from the pause's start)
--   {'none'}                                 no place: never joined, skipped, or its admission
--                                            was spent or expired (it joins again, at the back)

local shopper = ARGV[1]
local ticket = redis.call('ZSCORE', KEYS[1], shopper)
if ticket then
  local ahead = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ticket)
  return {'waiting', tonumber(ticket), ahead, tonumber(redis.call('GET', KEYS[3]) or '0')}
end
local admission = redis.call('HGET', KEYS[2], shopper)
if admission then
  local now_ms = tonumber(ARGV[2])
  if not now_ms then
    local time = redis.call('TIME')
    now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  local state = redis.call('HMGET', KEYS[4], 'status', 'paused_ms')
  local paused = state[1] == 'paused' and state[2] ~= false
  if paused then now_ms = tonumber(state[2]) end
  local expires_ms, admitted_ticket = string.match(admission, '^[^|]*|(%d+)|(%d+)$')
  expires_ms = tonumber(expires_ms)
  if expires_ms > now_ms then
    return {'admitted', tonumber(admitted_ticket), expires_ms, expires_ms - now_ms, paused and 1 or 0}
  end
end
return {'none'}
