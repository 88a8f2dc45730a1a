-- wrk script: every request is a new shopper with a new idempotency key.
-- Prints one JSON line; "errors" counts socket errors (connect, read, write, timeout).
-- Usage: wrk -s bench/buy.lua URL -- <sale id> [token file]
--        wrk -s bench/buy.lua URL -- sku:<product id> [token file]   (the seed's POST /order, as its k6 script sends it)
-- With a token file (one X-Shopper-Token a line, bench/versus.py writes them), every request
-- proves its shopper with the next token (cycling) and names none in the body: production
-- identity, demo mode off.
local counter = 0
local thread_id = 0
local threads = {}
local sale_id, report_path

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  sale_id = args[1] or "1"
  -- Unique across wrk runs too: Lua's random sequence is the same in every process
  -- unless seeded, and a repeated key would be an idempotent replay, not a new buyer.
  thread_id = string.format("%d%d", os.time(), tid)
  math.randomseed(os.time() * 1000 + tid)
  statuses = {}
  sku = string.match(sale_id, "^sku:(.+)$")
  path = sku and "/order" or "/api/v1/sales/" .. sale_id .. "/buy"
  tokens = nil
  if args[2] then
    tokens = {}
    for line in io.lines(args[2]) do tokens[#tokens + 1] = line end
  end
end

function request()
  counter = counter + 1
  local id = string.format("w%d-%d-%d", thread_id, counter, math.random(1, 1000000000))
  if tokens then
    local token = tokens[(counter - 1) % #tokens + 1]
    if sku then
      return wrk.format("POST", path, {["Content-Type"] = "application/json", ["x-idempotency-key"] = id,
        ["X-Shopper-Token"] = token}, '{"productId":"' .. sku .. '"}')
    end
    return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Idempotency-Key"] = id,
      ["X-Shopper-Token"] = token}, '{"quantity":1}')
  end
  if sku then
    return wrk.format("POST", path, {["Content-Type"] = "application/json", ["x-idempotency-key"] = id},
      '{"productId":"' .. sku .. '","userId":"' .. id .. '"}')
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Idempotency-Key"] = id},
    '{"user_id":"' .. id .. '","quantity":1}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do totals[status] = (totals[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(totals) do table.insert(parts, string.format('"%d": %d', status, n)) end
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
