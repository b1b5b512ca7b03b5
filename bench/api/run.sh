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
secs="${1:-15}"
conns="${2:-16}"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
. "$here/common.sh"
TOKEN="$(bench_token)" || exit 1
export TOKEN
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
readable_ids "$TOKEN" "$tmp/ids"
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
