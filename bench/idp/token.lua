-- wrk script: POST the form in $FORM to the realm's token endpoint ($TOKEN_PATH), with the optional
-- Authorization header in $AUTH, counting non-200 answers.
local path = assert(os.getenv("TOKEN_PATH"))
wrk.method = "POST"
wrk.body = assert(os.getenv("FORM"))
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auth = os.getenv("AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local bad = 0
function request() return wrk.format(nil, path) end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non-200: %d\n", bad))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
