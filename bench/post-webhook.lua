-- wrk script: POST /webhooks/stripe with the signed deliveries in the file
-- named by BENCH_DELIVERIES_FILE (one per line: the Stripe-Signature value,
-- a tab, the body; bench/webhook-events.py writes them). Each thread sends
-- its own contiguous slice of the file, in order, so no two requests carry
-- the same event; a thread that reaches the end of its slice starts it
-- again (those are redeliveries, and `wrapped` says how many times).
-- BENCH_THREAD_COUNT is wrk's --threads (how many slices).
-- It counts the answers: 200 with "outcome":"processed", "duplicate" or
-- "ignored", and anything else, and prints the totals when wrk is done:
--   webhook answers: processed=N duplicate=N ignored=N other=N wrapped=N slice=N

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local requests = {}
local next_index = 1
processed, duplicate, ignored, other, wrapped, slice = 0, 0, 0, 0, 0, 0

function init(args)
  local path = os.getenv("BENCH_DELIVERIES_FILE")
  if not path then
    error("BENCH_DELIVERIES_FILE is not set")
  end
  local count = tonumber(os.getenv("BENCH_THREAD_COUNT") or "1")
  local total = 0
  for _ in io.lines(path) do
    total = total + 1
  end
  local first = math.floor((thread_number - 1) * total / count) + 1
  local last = math.floor(thread_number * total / count)
  local headers = { ["Content-Type"] = "application/json" }
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    if n >= first and n <= last then
      local tab = line:find("\t", 1, true)
      headers["Stripe-Signature"] = line:sub(1, tab - 1)
      requests[#requests + 1] = wrk.format("POST", "/webhooks/stripe", headers, line:sub(tab + 1))
    end
  end
  if #requests == 0 then
    error("no deliveries for thread " .. thread_number .. " in " .. path)
  end
  slice = #requests
end

function request()
  local r = requests[next_index]
  next_index = next_index + 1
  if next_index > #requests then
    next_index = 1
    wrapped = wrapped + 1
  end
  return r
end

function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif body:find('"outcome":"processed"', 1, true) then
    processed = processed + 1
  elseif body:find('"outcome":"duplicate"', 1, true) then
    duplicate = duplicate + 1
  elseif body:find('"outcome":"ignored"', 1, true) then
    ignored = ignored + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { processed = 0, duplicate = 0, ignored = 0, other = 0, wrapped = 0, slice = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  io.write(string.format("webhook answers: processed=%d duplicate=%d ignored=%d other=%d wrapped=%d slice=%d\n",
    totals.processed, totals.duplicate, totals.ignored, totals.other, totals.wrapped, totals.slice))
end
