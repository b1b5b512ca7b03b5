#!/usr/bin/env bash
# bench/api/ab.sh — A/B of api binaries against one deployed, seeded hub, alternating them (A B, B A, ...)
# so that both see the same (noisy, shared) machine. For each pair and binary: `dive hub stop api`, start
# `<binary> serve api --instance USA`, warm up, then wrk over every document testuser-usa-5 (OTP) may read
# and over list pages. The supervised api is started again at the end.
#   bench/api/ab.sh PAIRS BINARY [BINARY ...]        e.g. bench/api/ab.sh 4 /tmp/dive-old /tmp/dive-new
# Copy the binaries first (cp build/release/dive /tmp/dive-new): the build overwrites build/release/dive.
# A BINARY may carry settings for its api as VAR=VALUE[,VAR=VALUE]@BINARY (instance.json leaves by their
# environment names), e.g. the cost of the audit trail: bench/api/ab.sh 4 /tmp/dive DIVE_AUDIT_ENABLED=false@/tmp/dive
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 2 ] || { sed -n '2,8p' "$0" >&2; exit 64; }
. "$here/common.sh"
tmp="$(mktemp -d)"; api_pid=""
cleanup() { stop_api; "$dive" hub start api >/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pairs=$1; shift
TOKEN="$(bench_token)" || exit 1
export TOKEN
"$dive" hub stop api >/dev/null || exit 1
# READ_SECONDS (8) sets how long the measured reads run: longer runs include the background work a run
# triggers (autovacuum, checkpoints).
# CPU ticks (utime + stime) of the given processes.
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# CPU ticks of the children a process has reaped (cutime + cstime): PostgreSQL's exited autovacuum workers.
reaped_ticks() { awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of the api's audit writer thread (named audit-writer; 0 when the trail is off).
writer_ticks() { local t f; t=0; for f in /proc/"$1"/task/*; do [ "$(cat "$f/comm" 2>/dev/null)" = audit-writer ] && t=$((t + $(awk '{print $14 + $15}' "$f/stat"))); done; echo "$t"; }
# Page faults (minor + major) of a process.
faults() { awk '{print $10 + $12}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The whole machine (every process, wrk included): busy ticks (user, nice, system, irq, softirq) and steal.
machine() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $9}' /proc/stat; }
# The machine's disks (loop, ram and zram devices aside): KiB written and flushes (fsyncs reaching them).
disks() {
  local d
  for d in /sys/block/*; do case "${d##*/}" in loop* | ram* | zram*) ;; *) cat "$d/stat" ;; esac; done |
    awk '{kib += $7 / 2; fl += $16} END{print int(kib), fl + 0}'
}
# The instance's PostgreSQL: the postmaster and its children (backends, WAL writer, checkpointer...).
pg_pids() { local pm; pm=$(head -1 "$inst/pg/postmaster.pid" 2>/dev/null) || return 0; echo "$pm" $(ps -o pid= --ppid "$pm"); }
# wrk's summary as "requests/s p99 [NON2XX=n]"
summary() { awk '/Requests\/sec/{rps=$2} / 99%/{p99=$2} /Non-2xx/{bad=$NF} END{print rps, p99, (bad ? "NON2XX=" bad : "")}'; }
us() { echo $(( $1 * 10000 / n )); }  # ticks of 10 ms over the run -> µs a read
for p in $(seq 1 "$pairs"); do
  # A fresh token every pair: a pair takes ~2 minutes with 40 s reads and an access token lives 15, so a
  # long run would otherwise end in 401s (counted as NON2XX). One-time codes are one per 30 s: pairs are
  # further apart than that.
  if [ "$p" -gt 1 ]; then TOKEN="$(bench_token)" || exit 1; fi
  # Every other pair in the reverse order (A B, B A, ...): what one run leaves behind for the next
  # (autovacuum, a checkpoint, a warm cache) falls on each binary alike.
  order=("$@")
  if [ $((p % 2)) -eq 0 ]; then order=(); for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done; fi
  for spec in "${order[@]}"; do
    settings="$(spec_settings "$spec")"
    start_api "$spec" "$tmp/api.log" || exit 1
    if [ ! -s "$tmp/reads" ]; then
      readable_ids "$TOKEN" "$tmp/ids"
      sed 's#^#/api/resources/#' "$tmp/ids" >"$tmp/reads"; echo "/api/resources?limit=25" >"$tmp/list"
      echo "$(wc -l <"$tmp/ids") readable documents"
    fi
    PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d6s -s "$here/get.lua" "$api" >/dev/null
    # CPU per read (ticks of 10 ms over the run / requests): the whole machine (and its steal), the api (its
    # audit writer), PostgreSQL (with the workers it reaped during the run); the api's page faults; what
    # reached the disks (docs/PERFORMANCE.md, run 12: writes with flushes slow every process of this VM).
    pg=$(pg_pids); pm=${pg%% *}
    read -r m0 s0 < <(machine); read -r k0 fl0 < <(disks)
    a0=$(ticks "$api_pid"); p0=$(( $(ticks $pg) + $(reaped_ticks "$pm") )); w0=$(writer_ticks "$api_pid"); f0=$(faults "$api_pid")
    out=$(PATHS_FILE="$tmp/reads" wrk -t1 -c16 -d"${READ_SECONDS:-8}"s --latency -s "$here/get.lua" "$api")
    read -r m1 s1 < <(machine); read -r k1 fl1 < <(disks)
    a1=$(ticks "$api_pid"); p1=$(( $(ticks $pg) + $(reaped_ticks "$pm") )); w1=$(writer_ticks "$api_pid"); f1=$(faults "$api_pid")
    n=$(awk '/requests in/{print $1}' <<<"$out"); [ "${n:-0}" -gt 0 ] || n=1
    r="$(summary <<<"$out") cpu/read machine $(us $((m1 - m0)))us (steal $(us $((s1 - s0)))us) api $(us $((a1 - a0)))us (audit writer $(us $((w1 - w0)))us) pg $(us $((p1 - p0)))us; api faults/1k reads $(( (f1 - f0) * 1000 / n )); disk $(( (k1 - k0) * 1000 / n ))KiB/1k reads, $(( (fl1 - fl0) / ${READ_SECONDS:-8} )) flushes/s"
    l=$(PATHS_FILE="$tmp/list" wrk -t1 -c16 -d8s --latency -s "$here/get.lua" "$api" | summary)
    echo "pair $p ${settings:+$settings }$(basename "$(spec_binary "$spec")"): reads $r | list $l | load $(cut -d' ' -f1 /proc/loadavg)"
    stop_api
  done
done
