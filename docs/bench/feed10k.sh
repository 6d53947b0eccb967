#!/usr/bin/env bash
# Target 2 of issue 20: N feed clients on one embedded server (SQLite, no
# services), A alerts one after the other; the server's memory, CPU and the
# delivery times. Needs the binary at BIN (go build -o /tmp/jarimu ./cmd/jarimu).
# ACK="--ack" (the console's acks, 150 ms gathered), ACK="--ack --ack-delay 0"
# (each event acknowledged at once), ACK="" (no acks).
# Usage: [BIN=/tmp/jarimu] [N=10000] [A=20] [ACK=--ack] OUT=file.json bash docs/bench/feed10k.sh
set -euo pipefail
BIN=${BIN:-/tmp/jarimu}; N=${N:-10000}; A=${A:-20}; ACK=${ACK---ack}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
$BIN serve -addr 127.0.0.1:18080 -data-dir "$work" -log-level warn \
  -rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0 > "$work/serve.log" 2>&1 &
pid=$!
for i in $(seq 60); do curl -sf 127.0.0.1:18080/readyz >/dev/null && break; sleep 0.5; done
# shellcheck disable=SC2086
$BIN bench feed --server http://127.0.0.1:18080 --data-dir "$work" --clients $N --alerts $A $ACK \
  --server-pid $pid --json "${OUT:-/tmp/feed10k.json}" 2>/dev/null
