#!/usr/bin/env bash
# bench/api/run.sh — wrk against the api of a deployed, seeded hub over keep-alive HTTPS, as
# testuser-usa-5 with OTP (TOP_SECRET, AAL2):
#   1. GET /api/resources/{id} over the documents that user may read (decision cache warm)
#   2. GET /api/resources?limit=25 pages
#   3. POST /api/resources/{id}/key (KAS unwrap + fresh pdp decision + AES-GCM decrypt)
#   bench/api/run.sh [seconds] [connections]
# Uses $DIVE_HOME's hub (default .dive/); deploy and seed it first (./dive hub deploy; ./dive hub seed 2000).
# For cold-cache reads set "api": {"decision_cache": false} in the hub's instance.json and restart the api.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
secs="${1:-15}"
conns="${2:-16}"
home="${DIVE_HOME:-$root/.dive}"
inst="$home/instances/usa"
dive="${DIVE_BIN:-$root/build/release/dive}"
idp="$(jq -r .issuer "$inst/instance.json")"
api="$(jq -r .urls.api "$inst/instance.json")"
ca="$home/ca/rootCA.pem"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
password="$(jq -r .test_user_password "$inst/secrets.json")"
otp="$(DIVE_HOME="$home" "$dive" hub users otp testuser-usa-5)"
TOKEN="$(curl -s --cacert "$ca" "$idp/protocol/openid-connect/token" -d grant_type=password -d client_id=dive-cli \
  -d username=testuser-usa-5 --data-urlencode "password=$password" -d "totp=$otp" | jq -r .access_token)"
export TOKEN
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# The documents this user may read: every page of the list.
cursor=""
while :; do
  page="$(curl -s --cacert "$ca" -H "Authorization: Bearer $TOKEN" "$api/api/resources?limit=100${cursor:+&cursor=$cursor}")"
  jq -r '.resources[].resourceId' <<<"$page" >>"$tmp/ids"
  cursor="$(jq -r '.nextCursor // empty' <<<"$page")"
  [ -n "$cursor" ] || break
done
echo "$(wc -l <"$tmp/ids") readable documents"
sed 's#^#/api/resources/#' "$tmp/ids" >"$tmp/reads"
sed 's#^#/api/resources/#; s#$#/key#' "$tmp/ids" >"$tmp/keys"
echo "/api/resources?limit=25" >"$tmp/list"

echo "== GET /api/resources/{id}, $conns connections, ${secs}s"
PATHS_FILE="$tmp/reads" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/get.lua" "$api"
echo; echo "== GET /api/resources?limit=25, $conns connections, ${secs}s"
PATHS_FILE="$tmp/list" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/get.lua" "$api"
echo; echo "== POST /api/resources/{id}/key, $conns connections, ${secs}s"
PATHS_FILE="$tmp/keys" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/post.lua" "$api"
