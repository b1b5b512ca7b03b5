#!/usr/bin/env bash
# bench/api/ab.sh — A/B of api binaries against one deployed, seeded hub, alternating them so that both
# see the same (noisy, shared) machine. For each pair and binary: `dive hub stop api`, start
# `<binary> serve api --instance USA`, warm up, then wrk over every document testuser-usa-5 (OTP) may read
# and over list pages. The supervised api is started again at the end.
#   bench/api/ab.sh PAIRS BINARY [BINARY ...]        e.g. bench/api/ab.sh 4 /tmp/dive-old /tmp/dive-new
# Copy the binaries first (cp build/release/dive /tmp/dive-new): the build overwrites build/release/dive.
# A BINARY may carry settings for its api as VAR=VALUE[,VAR=VALUE]@BINARY (instance.json leaves by their
# environment names), e.g. the cost of the audit trail: bench/api/ab.sh 4 /tmp/dive DIVE_AUDIT_ENABLED=false@/tmp/dive
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
[ $# -ge 2 ] || { sed -n '2,8p' "$0" >&2; exit 64; }
home="${DIVE_HOME:-$root/.dive}"
export DIVE_HOME="$home"
dive="${DIVE_BIN:-$root/build/release/dive}"
. "$here/common.sh"
tmp="$(mktemp -d)"; pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; "$dive" hub start api >/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pairs=$1; shift
TOKEN="$(bench_token)" || exit 1
export TOKEN
"$dive" hub stop api >/dev/null
# READ_SECONDS (8) sets how long the measured reads run: longer runs include the background work a run
# triggers (e.g. the audit trail sealing a full partition every ~500,000 records).
# CPU ticks (utime + stime) of the given processes.
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# CPU ticks of the api's audit writer thread (named audit-writer; 0 when the trail is off).
writer_ticks() { local t f; t=0; for f in /proc/"$1"/task/*; do [ "$(cat "$f/comm" 2>/dev/null)" = audit-writer ] && t=$((t + $(awk '{print $14 + $15}' "$f/stat"))); done; echo "$t"; }
# The instance's PostgreSQL: the postmaster and its children (backends, WAL writer, checkpointer...).
pg_pids() { local pm; pm=$(head -1 "$inst/pg/postmaster.pid" 2>/dev/null) || return 0; echo "$pm" $(ps -o pid= --ppid "$pm"); }
# wrk's summary as "requests/s p99 [NON2XX=n]"
summary() { awk '/Requests\/sec/{rps=$2} / 99%/{p99=$2} /Non-2xx/{bad=$NF} END{print rps, p99, (bad ? "NON2XX=" bad : "")}'; }
for p in $(seq 1 "$pairs"); do
  # A fresh token every pair: a pair takes ~2 minutes with 40 s reads and an access token lives 15, so a
  # long run would otherwise end in 401s (counted as NON2XX). One-time codes are one per 30 s: pairs are
  # further apart than that.
  if [ "$p" -gt 1 ]; then TOKEN="$(bench_token)" || exit 1; fi
  for spec in "$@"; do
    bin="${spec##*@}"; settings=""
    [ "$spec" != "$bin" ] && settings="${spec%@*}"
    # shellcheck disable=SC2046  # one word per VAR=VALUE
    env $(tr ',' ' ' <<<"$settings") "$bin" serve api --instance USA >"$tmp/api.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -s --cacert "$ca" "$api/health/ready" >/dev/null && break; sleep 0.1; done
    if [ ! -s "$tmp/reads" ]; then
      readable_ids "$TOKEN" "$tmp/ids"
      sed 's#^#/api/resources/#' "$tmp/ids" >"$tmp/reads"; echo "/api/resources?limit=25" >"$tmp/list"
      echo "$(wc -l <"$tmp/ids") readable documents"
    fi
    PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d6s -s "$here/get.lua" "$api" >/dev/null
    # CPU of the api and of PostgreSQL per read (ticks of 10 ms over the run / requests), beside reads/s.
    pg=$(pg_pids); a0=$(ticks "$pid"); p0=$(ticks $pg); w0=$(writer_ticks "$pid")
    out=$(PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d"${READ_SECONDS:-8}"s --latency -s "$here/get.lua" "$api")
    a1=$(ticks "$pid"); p1=$(ticks $pg); w1=$(writer_ticks "$pid")
    n=$(awk '/requests in/{print $1}' <<<"$out"); [ "${n:-0}" -gt 0 ] || n=1
    r="$(summary <<<"$out") cpu/read api $(( (a1 - a0) * 10000 / n ))us (audit writer $(( (w1 - w0) * 10000 / n ))us) pg $(( (p1 - p0) * 10000 / n ))us"
    l=$(PATHS_FILE="$tmp/list" wrk -t1 -c16 -d8s --latency -s "$here/get.lua" "$api" | summary)
    echo "pair $p ${settings:+$settings }$(basename "$bin"): reads $r | list $l | load $(cut -d' ' -f1 /proc/loadavg)"
    kill "$pid"; wait "$pid" 2>/dev/null; pid=""
  done
done
