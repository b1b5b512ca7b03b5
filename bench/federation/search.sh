#!/usr/bin/env bash
# Federated search across a hub and two spokes, each in a $DIVE_HOME of its own (docs/PERFORMANCE.md):
#   bench/federation/search.sh [SECONDS]     (default 20 per run; needs jq, curl, wrk)
# Deploys USA, FRA (on 127.0.0.2, joined by token) and GBR (joined by token) into temporary homes with the
# test profile and 200 documents each, then measures GET /api/resources/federated-search at the FRA api as
# testuser-fra-5 (TOP_SECRET, AAL2):
#   1. every partner up                    wrk -t1 -c4, p50/p99 and requests/s
#   2. GBR stopped (connection refused)    the same: partial answers, GBR's breaker opens
#   3. GBR hung (its api SIGSTOPped)       10 sequential searches with curl: each ends by the 3 s deadline
#                                          until the breaker opens, then without waiting
# Everything it starts it stops (nuke of its own homes, by recorded pids). FED_BENCH_SHIFTS="a b c" sets
# the three port shifts (default 14000 14200 14400).
set -euo pipefail
secs="${1:-20}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dive="$root/build/release/dive"
[[ -x "$dive" ]] || { echo "build first: cmake --build build/release" >&2; exit 1; }
read -r s_usa s_fra s_gbr <<<"${FED_BENCH_SHIFTS:-14000 14200 14400}"
work="$(mktemp -d /tmp/dive-fedbench.XXXXXX)"
chmod 755 "$work"
mkdir -m 755 "$work/usa" "$work/fra" "$work/gbr"
gbr_api_pid=""
cleanup() {
  [[ -n "$gbr_api_pid" ]] && kill -CONT "$gbr_api_pid" 2>/dev/null || true
  for h in gbr fra usa; do DIVE_HOME="$work/$h" "$dive" nuke all --confirm >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
usa() { DIVE_HOME="$work/usa" DIVE_PORT_SHIFT="$s_usa" "$dive" "$@"; }
fra() { DIVE_HOME="$work/fra" DIVE_PORT_SHIFT="$s_fra" "$dive" "$@"; }
gbr() { DIVE_HOME="$work/gbr" DIVE_PORT_SHIFT="$s_gbr" "$dive" "$@"; }

echo "# deploying USA, FRA (127.0.0.2) and GBR in three homes under $work"
usa hub deploy --profile test --seed 200 >/dev/null
fra spoke deploy FRA --profile test --seed 200 --host 127.0.0.2 \
  --join "$(usa hub enroll FRA --json | jq -r .token)" >/dev/null
gbr spoke deploy GBR --profile test --seed 200 --join "$(usa hub enroll GBR --json | jq -r .token)" >/dev/null
for i in $(seq 1 100); do
  n=$(fra federation status --json | jq '.[0].members | length')
  [[ "$n" == 3 ]] && break
  sleep 0.2
done

inst="$work/fra/instances/fra"
ca="$inst/federation/trust.pem"
api="$(jq -r .urls.api "$inst/instance.json")"
idp="$(jq -r .issuer "$inst/instance.json")"
password="$(jq -r .test_user_password "$inst/secrets.json")"
token="$(curl -s --cacert "$ca" "$idp/protocol/openid-connect/token" -d grant_type=password -d client_id=dive-cli \
  -d username=testuser-fra-5 --data-urlencode "password=$password" -d "totp=$(fra spoke users otp FRA testuser-fra-5)" |
  jq -r '.access_token // empty')"
[[ -n "$token" ]] || { echo "no token for testuser-fra-5" >&2; exit 1; }
paths="$work/paths"
printf '%s\n' "/api/resources/federated-search?limit=25" "/api/resources/federated-search?query=Intelligence&limit=25" \
  "/api/resources/federated-search?classification=SECRET&limit=25" >"$paths"
one="$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$api/api/resources/federated-search?limit=25")"
echo "# one answer: $(jq -c '{count, partial, instances: [.instances[] | {instance, status, count}]}' <<<"$one")"

run_wrk() {
  TOKEN="$token" PATHS_FILE="$paths" wrk -t1 -c4 -d"${secs}s" -s "$root/bench/api/get.lua" "$api" 2>&1 |
    grep -E "Requests/sec|^p(50|99):|Non-2xx"
}
echo
echo "# 1. every partner up: wrk -t1 -c4 -d${secs}s at the FRA api"
run_wrk

echo
echo "# 2. GBR stopped (./dive spoke down GBR): partial answers"
gbr spoke down GBR >/dev/null
run_wrk
curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$api/api/resources/federated-search?limit=25" |
  jq -c '{partial, gbr: [.instances[] | select(.instance == "GBR")][0]}'
gbr spoke up GBR >/dev/null
for i in $(seq 1 150); do
  p=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$api/api/resources/federated-search?limit=5" | jq .partial)
  [[ "$p" == false ]] && break
  sleep 0.2
done

echo
echo "# 3. GBR hung (its api SIGSTOPped): 10 sequential searches (deadline 3 s)"
gbr_api_pid="$(gbr spoke status GBR --json | jq -r '.services[] | select(.name == "api") | .pid')"
kill -STOP "$gbr_api_pid"
for i in $(seq 1 10); do
  curl -s -o "$work/out" -w '%{time_total}' --cacert "$ca" -H "Authorization: Bearer $token" \
    "$api/api/resources/federated-search?limit=25" | awk '{printf "  %2d: %6.0f ms", '"$i"', $1 * 1000}'
  jq -r '" GBR " + ([.instances[] | select(.instance == "GBR")][0].status) + ", partial " + (.partial | tostring)' "$work/out"
done
kill -CONT "$gbr_api_pid"
gbr_api_pid=""
