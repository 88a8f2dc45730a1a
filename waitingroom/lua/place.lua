-- Where a shopper stands in a sale's queue, read only (the polling page, the
-- websocket consumer when its ticket's turn may have come).
--
-- KEYS  1 queue:waiting  2 queue:admitted  3 queue:serving
-- ARGV  1 shopper id   2 now ms ('' = Redis TIME)
--
-- Returns one of
--   {'waiting', ticket, ahead, serving}     ahead: places before this one
--   {'admitted', ticket, expires ms}         an admission not yet spent nor expired
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
  local expires_ms, admitted_ticket = string.match(admission, '^[^|]*|(%d+)|(%d+)$')
  if tonumber(expires_ms) > now_ms then return {'admitted', tonumber(admitted_ticket), tonumber(expires_ms)} end
end
return {'none'}
