-- Shared by the workload scripts (each loads it first). Every thread counts its answers by
-- status class; when the run ends, one line starting with "bench-result " carries the
-- numbers the harness reads, as JSON. Latencies are in microseconds.

local threads = {}

-- A project generated with authentication gets a credential from the harness; every request
-- carries it, to the floor as well, so both receive requests of the same size.
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

answers_2xx = 0
answers_other = 0
answers_429 = 0

function response(status, headers, body)
  if status >= 200 and status < 300 then
    answers_2xx = answers_2xx + 1
  else
    answers_other = answers_other + 1
    if status == 429 then
      answers_429 = answers_429 + 1
    end
  end
end

function done(summary, latency, requests)
  local ok, other, throttled = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("answers_2xx")
    other = other + thread:get("answers_other")
    throttled = throttled + thread:get("answers_429")
  end
  local errors = summary.errors
  io.write(string.format(
    'bench-result {"requests":%d,"duration_us":%d,"answers_2xx":%d,"non_2xx":%d,"answers_429":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,'
      .. '"timeouts":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, ok, other, throttled,
    errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.mean, latency.max
  ))
end
