#!/usr/bin/env bash
# bench/api/profile.sh — a CPU profile of the api and of the instance's PostgreSQL under the read load of
# ab.sh: `dive hub stop api`, start `<binary> serve api --instance USA` (with settings, as in ab.sh), warm up,
# then 35 s of wrk over every document testuser-usa-5 (OTP) may read, 25 s of it under
# `perf record -F 499 -g` of the api and every PostgreSQL process. The supervised api is started again.
#   bench/api/profile.sh OUT BINARY                   e.g. bench/api/profile.sh /tmp/on.data /tmp/dive
#   bench/api/profile.sh OUT VAR=VALUE[,...]@BINARY   e.g. ... /tmp/off.data DIVE_AUDIT_ENABLED=false@/tmp/dive
# Then: perf report -i OUT --no-children --sort comm -g none (the audit writer's thread is "audit-writer").
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -eq 2 ] || { sed -n '2,8p' "$0" >&2; exit 64; }
command -v perf >/dev/null || { echo "perf is not installed (linux-perf)" >&2; exit 69; }
out=$1 spec=$2
dive="${spec##*@}"
# shellcheck source=bench/api/common.sh  # sets inst, ca, api; start_api, stop_api
. "$here/common.sh"
settings="$(spec_settings "$spec")"
tmp="$(mktemp -d)"; api_pid=""
cleanup() { stop_api; "$dive" hub start api >/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
TOKEN="$(bench_token)" || exit 1
export TOKEN
readable_ids "$TOKEN" "$tmp/ids"
sed 's#^#/api/resources/#' "$tmp/ids" >"$tmp/reads"
"$dive" hub stop api >/dev/null || exit 1
start_api "$spec" "$tmp/api.log" || exit 1
PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d6s -s "$here/get.lua" "$api" >/dev/null
pm=$(head -1 "$inst/pg/postmaster.pid")
# shellcheck disable=SC2046  # one pid a word: the postmaster's children
pids=$(echo "$api_pid" "$pm" $(ps -o pid= --ppid "$pm") | tr -s ' ' ',')
PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d35s -s "$here/get.lua" "$api" >"$tmp/wrk.txt" &
w=$!
# 25 s of the 35 (the warm-up above already ran): the profile ends before the load does.
perf record -F 499 -g -p "$pids" -o "$out" -- sleep 25 >/dev/null 2>&1
wait "$w"
echo "$(basename "$dive") ${settings:+$settings }: $(awk '/Requests\/sec/{print $2}' "$tmp/wrk.txt") reads/s; profile in $out"
