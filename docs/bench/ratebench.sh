#!/usr/bin/env bash
# The feed against a fresh embedded server: 10,000 clients (CLIENTS), RATE
# alerts a second for DURATION (the rate mode), or with RATE empty ALERTS
# alerts one after the other (issue 20's target 2). Every client acks as the
# console does unless ACK says otherwise ("--ack --ack-delay 0": each event
# at once; "": no acks). BIN serves; BENCH (default BIN) runs the load, so
# two server binaries can be compared under the same load generator. Prints
# the main figures and the server's feed write counters; the whole result
# goes to OUT.
# EXTRA goes to the bench as more flags (e.g. "--cpu-profile F").
# Usage: [BIN=/tmp/jarimu] [BENCH=...] [EXTRA=...] [RATE=5/s | RATE= [ALERTS=20]] [DURATION=30s] [ACK=--ack] OUT=file.json bash docs/bench/ratebench.sh
set -euo pipefail
BIN=${BIN:-/tmp/jarimu}; BENCH=${BENCH:-$BIN}; RATE=${RATE-5/s}; OUT=${OUT:-/tmp/ratebench.json}
CLIENTS=${CLIENTS:-10000}; ACK=${ACK---ack}
ulimit -n "$(ulimit -Hn)"
D=$(mktemp -d /tmp/ratebench.XXXX)
$BIN serve -data-dir "$D" -addr 127.0.0.1:18080 -metrics-addr 127.0.0.1:18090 -log-level warn \
  -rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0 > "$D/serve.log" 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 60); do curl -sf 127.0.0.1:18080/readyz >/dev/null && break; sleep 0.5; done
if [ -n "$RATE" ]; then load=(--rate "$RATE" --duration "${DURATION:-30s}"); else load=(--alerts "${ALERTS:-20}"); fi
# shellcheck disable=SC2086
$BENCH bench feed --server http://127.0.0.1:18080 --data-dir "$D" --clients "$CLIENTS" "${load[@]}" \
  $ACK ${EXTRA:-} --server-pid $PID --json "$OUT" 2>&1 |
  grep -E "per_second|missing|lost|kept_up|cpu_ms|rss_kib|alert_to_|publish_latency" || true
curl -s 127.0.0.1:18090/metrics | grep -E "^jarimu_feed_(event_writes|events_coalesced|events_delivered)_total" || true
echo "result: $OUT"
