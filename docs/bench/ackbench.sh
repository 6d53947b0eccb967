#!/usr/bin/env bash
# Ack cost: two instances on PostgreSQL + Redis, N clients, alerts at R/s for D;
# run once with clients acking every event and once without.
# Needs /tmp/jarimu (go build -o /tmp/jarimu ./cmd/jarimu). NICE=10 runs the
# load generator niced, so the servers get the CPU first on a shared machine.
# Usage: [ACK=--ack] [NICE=10] [N=10000 R=5 D=30s] OUT=file.json bash docs/bench/ackbench.sh
set -euo pipefail
N=${N:-10000}; R=${R:-5}; D=${D:-30s}; ACK=${ACK:-}
DB=ackbench_$$
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
trap 'pkill -f "jarimu serve -addr 127.0.0.1:1808" || true; sleep 1; psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" || true' EXIT
work=$(mktemp -d)
export JARIMU_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
export JARIMU_REDIS_URL=redis://127.0.0.1:6379/0 JARIMU_REDIS_PREFIX="ackbench$$:"
export JARIMU_JWT_KEYS_FILE=$work/keys.json JARIMU_VAPID_KEYS_FILE=$work/vapid-keys.json JARIMU_EVIDENCE_DIR=$work/ev JARIMU_EVIDENCE_DIR_SHARED=true
/tmp/jarimu keys new --file $JARIMU_JWT_KEYS_FILE >/dev/null
/tmp/jarimu migrate >/dev/null 2>&1 || true
for p in 18081 18082; do
  /tmp/jarimu serve -addr 127.0.0.1:$p -log-level warn -metrics-addr 127.0.0.1:$((p+1000)) \
    -rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0 > $work/serve-$p.log 2>&1 &
done
for i in $(seq 60); do curl -sf 127.0.0.1:18081/readyz >/dev/null && curl -sf 127.0.0.1:18082/readyz >/dev/null && break; sleep 1; done
${NICE:+nice -n $NICE} /tmp/jarimu bench feed --server http://127.0.0.1:18081,http://127.0.0.1:18082 --clients $N --rate ${R}/s --duration $D $ACK \
  --metrics http://127.0.0.1:19081/metrics,http://127.0.0.1:19082/metrics --json ${OUT:-/tmp/ackbench.json} 2>/dev/null
for p in 19081 19082; do curl -s 127.0.0.1:$p/metrics > ${OUT:-/tmp/ackbench.json}.$p.metrics; done
