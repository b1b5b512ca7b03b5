#!/usr/bin/env bash
# bench/pdp/run.sh — wrk against the pdp of a deployed hub over keep-alive HTTPS.
#   bench/pdp/run.sh [seconds] [connections]
# Uses $DIVE_HOME's hub (default .dive/); deploy it first (./dive hub deploy). wrk does not verify the
# certificate; the pdp serves TLS 1.3 with its ECDSA P-256 certificate.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
secs="${1:-15}"
conns="${2:-32}"
home="${DIVE_HOME:-$root/.dive}"
port="$(jq -r .ports.pdp "$home/instances/usa/instance.json")"
url="https://localhost:$port"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
echo "== single decision: POST /v1/data/dive/authz/decision, $conns connections, ${secs}s"
BODY_FILE="$here/decision.json" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/post.lua" "$url"
echo
echo "== batch of 100: POST /v1/batch/data/dive/authz/decision, 8 connections, ${secs}s"
BODY_FILE="$here/batch100.json" PDP_PATH=/v1/batch/data/dive/authz/decision \
  wrk -t1 -c8 -d"${secs}s" --latency -s "$here/post.lua" "$url"
