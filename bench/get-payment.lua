-- wrk script: GET /api/v1/payments/{id}, cycling through the ids listed in
-- the file named by BENCH_IDS_FILE (one per line), each thread from its own
-- offset. BENCH_PATH_PREFIX replaces /api/v1/payments/ (another object's
-- path: /api/v1/donors/, /donors/). The bearer token or session cookie
-- comes from wrk's -H option (wrk.headers).

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local ids = {}
local next_index = 1
local prefix = os.getenv("BENCH_PATH_PREFIX") or "/api/v1/payments/"

function init(args)
  local path = os.getenv("BENCH_IDS_FILE")
  if not path then
    error("BENCH_IDS_FILE is not set")
  end
  for line in io.lines(path) do
    if line ~= "" then
      ids[#ids + 1] = line
    end
  end
  if #ids == 0 then
    error("no ids in " .. path)
  end
  next_index = ((thread_number or 1) * 7919) % #ids + 1
end

function request()
  local id = ids[next_index]
  next_index = next_index % #ids + 1
  return wrk.format("GET", prefix .. id)
end
