-- wrk script: POST /donate, the form as a browser sends it: the CSRF cookie
-- and token from one GET /donate (BENCH_DONATE_COOKIE, BENCH_DONATE_CSRF),
-- and a fresh 48-hex-digit nonce per request (run, thread, counter), so
-- each request is a new form and asks the fake Stripe for a new Checkout
-- Session. It counts the answers and prints them when wrk is done:
--   donate answers: see_other=N other=N

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local counter = 0
local headers = {}
local csrf = os.getenv("BENCH_DONATE_CSRF") or error("BENCH_DONATE_CSRF is not set")
local run = tonumber(os.getenv("BENCH_RUN_ID") or tostring(os.time())) % 4294967296
see_other, other = 0, 0

function init(args)
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Cookie"] = os.getenv("BENCH_DONATE_COOKIE") or error("BENCH_DONATE_COOKIE is not set")
end

function request()
  counter = counter + 1
  local nonce = string.format("%016x%016x%016x", run, thread_number, counter)
  local amount = 5 + (counter * 37) % 500
  local body = string.format(
    "csrf=%s&nonce=%s&frequency=once&amount=%d&custom_amount=&currency=USD&campaign=general&cover_fees=on",
    csrf, nonce, amount)
  return wrk.format("POST", "/donate", headers, body)
end

function response(status, headers, body)
  if status == 303 then
    see_other = see_other + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local s, o = 0, 0
  for _, thread in ipairs(threads) do
    s = s + thread:get("see_other")
    o = o + thread:get("other")
  end
  io.write(string.format("donate answers: see_other=%d other=%d\n", s, o))
end
