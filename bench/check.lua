-- wrk script shared by every benchmark run; bench/runner.py prepends the request paths:
--   paths = { "/graphql?query=...", ... }   (one path: a fixed request; more: one at random)
--   headers = { ["Authorization"] = "Bearer ..." }   (sent with every request; may be empty)
-- Every response is checked: a status other than 200 or a body containing "errors" counts as
-- an error. done() prints one machine-readable line the runner parses.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  bad_status = 0
  graphql_errors = 0
  -- The same sequence of slugs in every run, different per thread.
  math.randomseed(id)
end

wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
-- Extra request headers (an editor's Authorization), prepended by the runner like paths.
for name, value in pairs(headers or {}) do
  wrk.headers[name] = value
end

if #paths == 1 then
  wrk.path = paths[1]
else
  function request()
    return wrk.format(nil, paths[math.random(#paths)])
  end
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests)
  local status, errors = 0, 0
  for _, thread in ipairs(threads) do
    status = status + thread:get("bad_status")
    errors = errors + thread:get("graphql_errors")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d bad_status=%d graphql_errors=%d socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    status, errors, e.connect + e.read + e.write, e.timeout
  ))
end
