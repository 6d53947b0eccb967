#!/usr/bin/env bash
# Issue 20's scale run: CLIENTS feed connections (38,000) on one machine.
# Two scaled instances (PostgreSQL + Redis, rate limits off) on two ports,
# the clients spread over both and held by PROCS bench worker processes
# (each process may hold only about 20,000 open files here), then ALERTS
# alerts to all of them one after the other, every client acking.
# Reported: commit to last client and to each client, deliveries missing
# (notes), both servers' RSS per idle connection and CPU per 1,000
# deliveries (summed over the two pids), and each server's /metrics figures.
#
# Needs the binary (go build -o /tmp/jarimu ./cmd/jarimu; BIN= names
# another), psql, curl, PostgreSQL on 127.0.0.1:5432 (user postgres, trust)
# and Redis on 127.0.0.1:6379. It makes a throwaway database and Redis
# prefix and removes the database at exit; the servers are stopped at exit.
# NICE=10 runs the load generator niced, so the servers get the CPU first.
# Usage: [CLIENTS=38000] [PROCS=4] [ALERTS=20] [ACK=--ack] [NICE=10] [OUT=file.json] bash docs/bench/scale38k.sh
# Small, for a try: CLIENTS=2000 PROCS=2 ALERTS=3 bash docs/bench/scale38k.sh
set -euo pipefail
CLIENTS=${CLIENTS:-38000}; PROCS=${PROCS:-4}; ALERTS=${ALERTS:-20}; ACK=${ACK---ack}
BIN=${BIN:-/tmp/jarimu}
PORTS=(${PORTS:-18081 18082})
OUT=${OUT:-/tmp/scale38k-$(date -u +%Y%m%dT%H%M%SZ).json}
PG="psql -h 127.0.0.1 -U postgres -d postgres -qc"
DB=scale38k_$$
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  $PG "DROP DATABASE IF EXISTS $DB" || true
  echo "server logs: $work" >&2
}
trap cleanup EXIT

# Every feed connection is a socket on each side: the servers and the bench
# workers inherit the hard limit.
ulimit -n "$(ulimit -Hn)"
echo "open-file limit $(ulimit -n); $CLIENTS clients, $PROCS bench processes, $ALERTS alerts" >&2

$PG "CREATE DATABASE $DB"
export JARIMU_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
export JARIMU_REDIS_URL=redis://127.0.0.1:6379/0 JARIMU_REDIS_PREFIX="scale38k$$:"
export JARIMU_JWT_KEYS_FILE=$work/keys.json JARIMU_VAPID_KEYS_FILE=$work/vapid-keys.json
export JARIMU_EVIDENCE_DIR=$work/ev JARIMU_EVIDENCE_DIR_SHARED=true
"$BIN" keys new --file "$JARIMU_JWT_KEYS_FILE" >/dev/null
"$BIN" migrate up >"$work/migrate.log" 2>&1

servers=() metrics=()
for p in "${PORTS[@]}"; do
  "$BIN" serve -addr 127.0.0.1:$p -log-level warn -metrics-addr 127.0.0.1:$((p + 1000)) \
    -rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0 >"$work/serve-$p.log" 2>&1 &
  pids+=($!)
  servers+=(http://127.0.0.1:$p) metrics+=(http://127.0.0.1:$((p + 1000))/metrics)
done
for p in "${PORTS[@]}"; do
  for i in $(seq 61); do
    curl -sf 127.0.0.1:$p/readyz >/dev/null && break
    if [ "$i" = 61 ]; then echo "the server on :$p is not ready after 60 s: $work/serve-$p.log" >&2; exit 1; fi
    sleep 1
  done
done

join() { local IFS=,; echo "$*"; }
${NICE:+nice -n $NICE} "$BIN" bench feed --server "$(join "${servers[@]}")" --clients "$CLIENTS" --procs "$PROCS" \
  --alerts "$ALERTS" $ACK --server-pid "$(join "${pids[@]}")" --metrics "$(join "${metrics[@]}")" --json "$OUT"
for p in "${PORTS[@]}"; do curl -s 127.0.0.1:$((p + 1000))/metrics >"$OUT.$p.metrics"; done
echo "JSON: $OUT (and each server's /metrics at the end: $OUT.<port>.metrics)" >&2
