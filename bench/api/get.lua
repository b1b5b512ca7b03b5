-- wrk script: authorized GETs with the bearer token in $TOKEN, cycling through the paths in $PATHS_FILE
-- (one per line). wrk itself reports "Non-2xx or 3xx responses: N" when any answer was not a success:
-- a run with that line (an expired token gives 401s, which are fast) measures nothing.
local f = assert(io.open(os.getenv("PATHS_FILE"), "r"))
local paths = {}
for line in f:lines() do if #line > 0 then paths[#paths + 1] = line end end
f:close()
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local i = math.random(#paths)
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
