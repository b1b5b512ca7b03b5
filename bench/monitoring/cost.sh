#!/usr/bin/env bash
# What monitoring costs, measured on a running home (docs/PERFORMANCE.md):
#   bench/monitoring/cost.sh [SECONDS]     (default 60; DIVE_HOME and DIVE_PORT_SHIFT as for ./dive)
# 1. CPU of each monitoring process (and of the hub's services and exporters) over SECONDS, from
#    /proc/<pid>/stat, with the scrape interval the stack runs with (1 s under --profile test);
# 2. the cost of serving one /metrics: wrk on the hub api's /metrics (one connection, one thread), and
#    the api's own histogram of its /metrics route;
# 3. the size of one /metrics response of every service and exporter.
# Only reads: it starts nothing and stops nothing. Needs jq, curl, wrk.
set -euo pipefail
secs="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
home="${DIVE_HOME:-$root/.dive}"
shift_="${DIVE_PORT_SHIFT:-0}"
ca="$home/ca/rootCA.pem"
dive="$root/build/release/dive"
tck=$(getconf CLK_TCK)

[[ -x "$dive" ]] || { echo "build first: ./dive ports USA" >&2; exit 1; }
mon=$(DIVE_HOME="$home" "$dive" monitoring status --json)
[[ $(jq -r .running <<<"$mon") == true ]] || { echo "monitoring is not running under $home" >&2; exit 1; }
hub=$(DIVE_HOME="$home" "$dive" hub status --json)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

declare -A pids
while read -r name pid; do [[ "$pid" != null ]] && pids["monitoring/$name"]=$pid; done \
  < <(jq -r '.services[] | "\(.name) \(.pid)"' <<<"$mon")
while read -r name pid; do [[ "$pid" != null ]] && pids["USA/$name"]=$pid; done \
  < <(jq -r '.services[] | select(.name|test("api|idp|pdp|kas|exporter")) | "\(.name) \(.pid)"' <<<"$hub")

declare -A before
for k in "${!pids[@]}"; do before[$k]=$(cpu_ticks "${pids[$k]}"); done
echo "# CPU over ${secs} s (scrape interval: $(grep -m1 scrape_interval "$home/monitoring/prometheus.yml" | tr -d ' \"'))"
sleep "$secs"
for k in $(printf '%s\n' "${!pids[@]}" | sort); do
  after=$(cpu_ticks "${pids[$k]}")
  awk -v k="$k" -v a="$after" -v b="${before[$k]}" -v t="$tck" -v s="$secs" \
    'BEGIN { printf "%-36s %6.2f %% of one core\n", k, (a - b) / t / s * 100 }'
done

api=$((4000 + shift_))
echo
echo "# one /metrics of the api: wrk -t1 -c1 -d10s"
wrk -t1 -c1 -d10s "https://localhost:$api/metrics" 2>&1 | grep -E "Requests/sec|Latency" || true
echo
echo "# the api's own histogram of its /metrics route (since it started)"
curl -s --cacert "$ca" "https://localhost:$api/metrics" |
  awk -F'[ ]' '/^dive_v3_http_request_duration_seconds_(sum|count)\{service="api",route="\/metrics"\}/ {v[$1]=$2}
       END { for (k in v) if (k ~ /count/) c=v[k]; else s=v[k]; if (c) printf "mean %.3f ms over %d scrapes\n", s/c*1000, c }'
echo
echo "# size of one /metrics response (bytes, series)"
for p in api:4000 idp:8443 pdp:9100 kas:10000 postgres-exporter:11000 redis-exporter:11300 \
         redis-blacklist-exporter:11600 monitor:9095 prometheus:9090 alertmanager:9093; do
  name=${p%%:*}; port=$(( ${p##*:} + shift_ ))
  body=$(curl -s --cacert "$ca" "https://localhost:$port/metrics")
  printf "%-26s %8d bytes %6d series\n" "$name" "${#body}" "$(grep -vc '^#' <<<"$body")"
done
