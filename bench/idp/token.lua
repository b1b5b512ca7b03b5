-- wrk script: POST the form in $FORM to the realm's token endpoint ($TOKEN_PATH), with the optional
-- Authorization header in $AUTH, counting non-200 answers. $FORMS (forms separated by "|") rotates through
-- several forms instead, one per request (password logins spread over accounts: the idp lets an account have
-- at most 2 attempts at once, docs/IDP.md).
local path = assert(os.getenv("TOKEN_PATH"))
wrk.method = "POST"
local forms = {}
for f in string.gmatch(os.getenv("FORMS") or "", "[^|]+") do table.insert(forms, f) end
local next_form = 0
wrk.body = os.getenv("FORM") or forms[1]
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auth = os.getenv("AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local bad = 0
function request()
  if #forms == 0 then return wrk.format(nil, path) end
  next_form = next_form % #forms + 1
  return wrk.format(nil, path, nil, forms[next_form])
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non-200: %d\n", bad))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
