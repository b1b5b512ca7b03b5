-- wrk script: authorized POSTs of "{}" (key requests) with the bearer token in $TOKEN, cycling through the
-- paths in $PATHS_FILE. wrk reports "Non-2xx or 3xx responses: N" itself when any answer failed.
local f = assert(io.open(os.getenv("PATHS_FILE"), "r"))
local paths = {}
for line in f:lines() do if #line > 0 then paths[#paths + 1] = line end end
f:close()
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local i = math.random(#paths)
function request()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
