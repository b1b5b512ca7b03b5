# bench/api/common.sh — sourced by run.sh, ab.sh, io_ab.sh and profile.sh. Sets home (and exports it as
# DIVE_HOME: the checkout's .dive/ unless set) and dive (the binary: as the script set it, else $DIVE_BIN,
# else the release build), then inst, ca, idp, api from the hub's instance.json, and defines:
#   bench_token               an access token of testuser-usa-5 with OTP (TOP_SECRET, AAL2), on stdout
#   readable_ids TOKEN FILE   every id that user may read (all pages of the list), one per line, into FILE
#   start_api SPEC LOG, stop_api, spec_binary SPEC, spec_settings SPEC   (below)
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
home="${DIVE_HOME:-$checkout/.dive}"
export DIVE_HOME="$home"
dive="${dive:-${DIVE_BIN:-$checkout/build/release/dive}}"
inst="$home/instances/usa"
ca="$home/ca/rootCA.pem"
idp="$(jq -r .issuer "$inst/instance.json")"
api="$(jq -r .urls.api "$inst/instance.json")"

bench_token() {
  local password otp
  password="$(jq -r .test_user_password "$inst/secrets.json")"
  otp="$(DIVE_HOME="$home" "$dive" hub users otp testuser-usa-5)"
  local token
  token="$(curl -s --cacert "$ca" "$idp/protocol/openid-connect/token" -d grant_type=password \
    -d client_id=dive-cli -d username=testuser-usa-5 --data-urlencode "password=$password" -d "totp=$otp" |
    jq -r '.access_token // empty')"
  if [ -z "$token" ]; then
    echo "no token for testuser-usa-5 (a one-time code is accepted once per 30 s: wait and run again)" >&2
    return 1
  fi
  echo "$token"
}

readable_ids() {
  local token="$1" out="$2" cursor="" page
  : >"$out"
  while :; do
    page="$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" \
      "$api/api/resources?limit=100${cursor:+&cursor=$cursor}")"
    jq -r '.resources[].resourceId' <<<"$page" >>"$out"
    cursor="$(jq -r '.nextCursor // empty' <<<"$page")"
    [ -n "$cursor" ] || break
  done
}

# A binary with settings for its api, as ab.sh and profile.sh take them: VAR=VALUE[,VAR=VALUE]@BINARY
# (instance.json leaves by their environment names) or a plain BINARY.
spec_binary() { echo "${1##*@}"; }
spec_settings() { local bin="${1##*@}"; [ "$1" != "$bin" ] && echo "${1%@*}"; return 0; }

# start_api SPEC LOG   `BINARY serve api --instance USA` with the spec's settings, in the background (its
#                      pid in $api_pid, its output in LOG); returns once /health/ready answers (10 s at most).
# stop_api             stops that process (only it: by its pid) and waits for it.
start_api() {
  local spec="$1" log="$2" settings
  settings="$(spec_settings "$spec")"
  if curl -s --cacert "$ca" "$api/health/ready" >/dev/null; then
    echo "an api already answers at $api (dive hub stop api first)" >&2
    return 1
  fi
  # shellcheck disable=SC2046  # one word per VAR=VALUE
  env $(tr ',' ' ' <<<"$settings") "$(spec_binary "$spec")" serve api --instance USA >"$log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 100); do
    curl -s --cacert "$ca" "$api/health/ready" >/dev/null && return 0
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the api of $spec did not become ready (its log: $log)" >&2
  tail -5 "$log" >&2
  return 1
}
stop_api() {
  [ -n "${api_pid:-}" ] || return 0
  kill "$api_pid" 2>/dev/null
  wait "$api_pid" 2>/dev/null
  api_pid=""
}
