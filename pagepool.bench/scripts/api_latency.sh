#!/usr/bin/env bash
# Latency of the HTTP API and /metrics as a client sees it: starts the runtime of the checkout
# given (default: this one) headless, waits for it, then times N sequential requests per path
# with curl (after 50 warm-up requests) and prints p50/p90/p99 in ms. Stops the runtime after.
# Usage: pagepool.bench/scripts/api_latency.sh [checkout] [n]
set -euo pipefail
checkout="${1:-$(dirname "$0")/../..}"
n="${2:-300}"
cd "$checkout"
./pagepool --daemon > /tmp/pagepool-api-latency.log 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/pagepool/api/pools 2>/dev/null)" = 200 ] && break
    sleep 0.5
done
sleep 5 # past the control plane's warm-up
for path in pagepool/api/pools pagepool/api/queues pagepool/api/devstats metrics; do
    for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:8080/$path"; done
    for _ in $(seq 1 "$n"); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:8080/$path"; done \
        | sort -n | awk -v p="/$path" '{a[NR]=$1} END {printf "%-24s n=%d p50=%.2f ms p90=%.2f ms p99=%.2f ms\n",
            p, NR, a[int(NR*0.5)]*1000, a[int(NR*0.9)]*1000, a[int(NR*0.99)]*1000}'
done
