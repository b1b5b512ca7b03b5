-- wrk script: POST the JSON body in $BODY_FILE to the given path, counting non-2xx answers.
local path = os.getenv("PDP_PATH") or "/v1/data/dive/authz/decision"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
local bad = 0
function request() return wrk.format(nil, path) end
function response(status, headers, body)
  if status >= 300 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", bad))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
