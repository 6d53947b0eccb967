#!/usr/bin/env bash
# Reconnect storm, scaled: two instances on PostgreSQL + Redis, N clients
# connect, all drop, 5 alerts are published, all reconnect with resume.
# Prints the database transactions (one per statement outside a transaction)
# committed during the whole run, and keeps each server's /metrics.
# NICE=10 runs the load generator niced, so the servers get the CPU first.
# PROFILE=file takes a CPU profile of the first instance, PROFILE_SECONDS
# long (5), PROFILE_AFTER seconds after the bench starts (20).
# Usage: [BIN=/tmp/jarimu] [N=10000] [NICE=10] [PROFILE=file.pprof] OUT=file.json bash docs/bench/stormbench.sh
set -euo pipefail
BIN=${BIN:-/tmp/jarimu}; N=${N:-10000}; OUT=${OUT:-/tmp/stormbench.json}
DB=stormbench_$$
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
# LOG_STATEMENTS=1 logs every statement on this database (PostgreSQL's log,
# lines tagged with its name): for counting a hello's statements, small N.
[ -z "${LOG_STATEMENTS:-}" ] || psql -h 127.0.0.1 -U postgres -d postgres -qc "ALTER DATABASE $DB SET log_statement = 'all'"
echo "database $DB"
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true; }
trap cleanup EXIT
export JARIMU_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
export JARIMU_REDIS_URL=redis://127.0.0.1:6379/0 JARIMU_REDIS_PREFIX="stormbench$$:"
export JARIMU_JWT_KEYS_FILE=$work/keys.json JARIMU_VAPID_KEYS_FILE=$work/vapid-keys.json JARIMU_EVIDENCE_DIR=$work/ev JARIMU_EVIDENCE_DIR_SHARED=true
$BIN keys new --file $JARIMU_JWT_KEYS_FILE >/dev/null
$BIN migrate >/dev/null 2>&1 || true
for p in 18081 18082; do
  $BIN serve -addr 127.0.0.1:$p -log-level warn -metrics-addr 127.0.0.1:$((p+1000)) \
    -rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0 > $work/serve-$p.log 2>&1 &
  pids+=($!)
done
for i in $(seq 60); do curl -sf 127.0.0.1:18081/readyz >/dev/null && curl -sf 127.0.0.1:18082/readyz >/dev/null && break; sleep 1; done
xacts() { psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"; }
x0=$(xacts)
if [ -n "${PROFILE:-}" ]; then
  (sleep ${PROFILE_AFTER:-20}; curl -s -o $PROFILE "127.0.0.1:19081/debug/pprof/profile?seconds=${PROFILE_SECONDS:-5}") &
  prof=$!
fi
${NICE:+nice -n $NICE} $BIN bench storm --server http://127.0.0.1:18081,http://127.0.0.1:18082 --clients $N --alerts 5 --ack \
  --metrics http://127.0.0.1:19081/metrics,http://127.0.0.1:19082/metrics --json $OUT 2>$work/bench.err
# Backends flush their counts within 10 s of going idle.
sleep 11; x1=$(xacts)
echo "database transactions during the run: $((x1 - x0)) for $N clients (two hellos each)"
# CPU seconds of the servers and of the PostgreSQL backends serving them,
# over the whole run (seeding, first connects, the storm): on a shared
# machine a steadier figure than the rate.
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
backends=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'")
hz=$(getconf CLK_TCK)
# System calls of the servers (reads and writes, sockets included).
io() { local k=$1 t=0; shift; for p in "$@"; do t=$((t + $(awk -v k="$k:" '$1 == k {print $2}' /proc/$p/io 2>/dev/null || echo 0))); done; echo $t; }
echo "system calls: servers $(io syscr "${pids[@]}") reads, $(io syscw "${pids[@]}") writes"
echo "cpu seconds: servers $(echo "scale=2; $(ticks "${pids[@]}") / $hz" | bc), postgres backends $(echo "scale=2; $(ticks $backends) / $hz" | bc)"
for p in 19081 19082; do curl -s 127.0.0.1:$p/metrics > $OUT.$p.metrics; done
[ -z "${prof:-}" ] || wait $prof || true
