#!/usr/bin/env bash
# bench/api/io_ab.sh — what disk writes alone cost the api's reads on this machine: one api of a deployed,
# seeded hub (audit trail off, so the reads write nothing), then wrk runs over every document
# testuser-usa-5 (OTP) may read, alternating the MODEs and back (A B .. B A) ROUNDS times: "none", or
# MB:FSYNCS, bench/api/iogen.py writing MB MB/s with FSYNCS fdatasync()s a second beside the reads.
#   bench/api/io_ab.sh ROUNDS SECONDS MODE [MODE ...]   e.g. bench/api/io_ab.sh 3 30 none 3.5:5 3.5:0
# The audit trail's PostgreSQL writes ~3.5 MB/s and flushes ~5 times a second at ~15,000 reads/s
# (bench/api/ab.sh prints both); docs/PERFORMANCE.md "Audit trail", run 12.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 3 ] || { sed -n '2,8p' "$0" >&2; exit 64; }
# shellcheck source=bench/api/common.sh  # sets inst, ca, api; start_api, stop_api
. "$here/common.sh"
rounds=$1 secs=$2; shift 2
tmp="$(mktemp -d)"; api_pid=""; gen=""
# The file iogen writes: on the instance's disk, removed at the end.
data="$inst/iogen.tmp"
cleanup() { [ -n "$gen" ] && kill "$gen" 2>/dev/null; stop_api; "$dive" hub start api >/dev/null; rm -rf "$tmp" "$data"; }
trap cleanup EXIT
TOKEN="$(bench_token)" || exit 1
export TOKEN
"$dive" hub stop api >/dev/null || exit 1
start_api "DIVE_AUDIT_ENABLED=false@$dive" "$tmp/api.log" || exit 1
readable_ids "$TOKEN" "$tmp/ids"
sed 's#^#/api/resources/#' "$tmp/ids" >"$tmp/reads"
PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d6s -s "$here/get.lua" "$api" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
modes=("$@")
for ((i = $#; i >= 1; i--)); do modes+=("${!i}"); done
for r in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    if [ "$mode" != none ]; then
      python3 "$here/iogen.py" "${mode%%:*}" "${mode##*:}" "$data" &
      gen=$!
    fi
    a0=$(ticks "$api_pid")
    out=$(PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d"${secs}"s -s "$here/get.lua" "$api")
    a1=$(ticks "$api_pid"); g=0
    if [ -n "$gen" ]; then g=$(ticks "$gen"); kill "$gen"; wait "$gen" 2>/dev/null; gen=""; fi
    n=$(awk '/requests in/{print $1}' <<<"$out"); [ "${n:-0}" -gt 0 ] || n=1
    echo "round $r $mode: $(awk '/Requests\/sec/{print $2}' <<<"$out") reads/s, api $(( (a1 - a0) * 10000 / n ))us CPU a read, iogen $((g * 10))ms CPU"
  done
done
