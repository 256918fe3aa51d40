-- wrk script: POST /api/v1/payments, each request with a fresh
-- Idempotency-Key (run id, thread number, per-thread counter), so every
-- request creates a payment instead of replaying the first one.
-- The bearer token comes from wrk's -H option (wrk.headers).

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local counter = 0
local headers = {}
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())

function init(args)
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, thread_number, counter)
  local body = string.format(
    '{"amount":%d,"currency":"USD","method":"card",' ..
    '"payer":{"name":"Bench Reader","email":"bench%d.%d@example.org"},' ..
    '"campaign":"bench","metadata":{"source":"bench"}}',
    100 + (counter * 37) % 100000, thread_number, counter)
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
