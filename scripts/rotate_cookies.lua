-- wrk script: send each request with the next session cookie from a file (one "name=value" a
-- line), so the load spreads over many signed-in sessions, not one. Usage:
--   wrk -s scripts/rotate_cookies.lua http://127.0.0.1:8000/account/ -- cookies.txt
-- With no file it sends no cookie. A second argument "pin" makes each thread send one cookie
-- only (thread n the n-th). done() prints one "BENCH {json}" line for bench.py.

local thread_count = 0

function setup(thread)
  -- Threads start at different cookies, so they do not move through the list in step.
  thread:set("offset", thread_count * 7)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

local cookies = {}
local counter = 0
local pinned = nil

function init(args)
  if args[1] then
    for line in io.lines(args[1]) do
      if #line > 0 then table.insert(cookies, line) end
    end
  end
  counter = offset or 0
  if args[2] == "pin" and #cookies > 0 then
    pinned = cookies[((id or 0) % #cookies) + 1]
  end
end

function request()
  counter = counter + 1
  if #cookies == 0 then
    return wrk.format(nil)
  end
  if pinned then
    return wrk.format(nil, nil, { ["Cookie"] = pinned })
  end
  return wrk.format(nil, nil, { ["Cookie"] = cookies[(counter % #cookies) + 1] })
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
