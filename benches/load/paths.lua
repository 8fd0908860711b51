-- wrk script: cycles through the request paths listed one per line in the file named after `--`,
-- each thread starting at its own offset, and prints one machine-readable RESULT line at the end.
--   wrk -t2 -c16 -d10s --latency -s paths.lua http://127.0.0.1:8080 -- paths.txt
local paths = {}
local i = 0
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  local file = args[1] or error("name the file of paths after --")
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  if #paths == 0 then error(file .. " lists no paths") end
  i = (offset or 0) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d socket_errors=%d http_errors=%d bytes=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.bytes))
end
