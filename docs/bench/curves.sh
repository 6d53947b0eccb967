#!/usr/bin/env bash
# How cost grows with load (issue 20 "curves"): the embedded server (SQLite,
# one instance) with N feed clients that ack every event, 20 alerts to all
# of them; then V volunteers racing for 20 tasks of 5 slots for 20 s. Each
# run on a fresh data dir and server. Raw results go to $OUT/*.json, then
# cmd/benchplot draws the charts next to them.
# Needs /tmp/jarimu (go build -o /tmp/jarimu ./cmd/jarimu).
# Then the same feed run on two scaled instances (PostgreSQL + Redis) at
# SCALED_CLIENTS, up to 38,000 (SCALED=0 skips it; needs psql and the
# services, see scale38k.sh).
# Usage: [CLIENTS="1000 2000"] [SCALED_CLIENTS="1000 38000"] [VOLUNTEERS="8 16"] [OUT=dir] bash docs/bench/curves.sh
# PLOT_ONLY=1 draws the charts again from the JSON already in $OUT.
set -euo pipefail
OUT=${OUT:-docs/bench/curves}
BIN=${BIN:-/tmp/jarimu}
mkdir -p "$OUT"
limits=(-rate-feed-ip 0 -rate-feed-user 0 -rate-user-writes 0 -rate-ip-writes 0)
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap stop EXIT
serve() { # data dir: starts the server on :18080, sets pid
  "$BIN" serve -data-dir "$1" -addr 127.0.0.1:18080 -log-level warn "${limits[@]}" >"$1/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 60); do curl -sf 127.0.0.1:18080/readyz >/dev/null && return; sleep 1; done
  echo "the server did not start: $1/serve.log" >&2; exit 1
}
if [ -z "${PLOT_ONLY:-}" ]; then
# Scaled: two instances on PostgreSQL + Redis (docs/bench/scale38k.sh per
# point), up to 38,000 clients over one bench worker per 10,000.
for n in ${SCALED_CLIENTS:-1000 2000 5000 10000 20000 38000}; do
  [ "${SCALED:-1}" = 1 ] || break
  CLIENTS=$n PROCS=$(( (n + 9999) / 10000 )) ALERTS=20 BIN=$BIN OUT="$OUT/scaled-feed-$n.json" \
    bash docs/bench/scale38k.sh >/dev/null
  rm -f "$OUT"/scaled-feed-$n.json.*.metrics; sleep 5
done
for n in ${CLIENTS:-1000 2000 5000 10000 15000}; do
  d=$(mktemp -d); serve "$d"
  "$BIN" bench feed --server http://127.0.0.1:18080 --data-dir "$d" --clients "$n" --alerts 20 --ack \
    --server-pid "$pid" --json "$OUT/feed-$n.json" >/dev/null
  stop; rm -rf "$d"; sleep 5
done
for v in ${VOLUNTEERS:-8 16 32 64}; do
  d=$(mktemp -d); serve "$d"
  "$BIN" bench claims --server http://127.0.0.1:18080 --data-dir "$d" --volunteers "$v" --tasks 20 --slots 5 \
    --duration 20s --json "$OUT/claims-$v.json" >/dev/null
  stop; rm -rf "$d"; sleep 2
done
fi
plot() { go run ./cmd/benchplot "$@"; }
# feed_charts PREFIX TITLE_SUFFIX WHO FILES...: the four feed charts of one
# set of runs (embedded: no prefix; scaled: "scaled-").
feed_charts() {
  local pre=$1 suf=$2 who=$3; shift 3
  plot -title "Alert fan-out$suf: commit to the last client" -x figures.clients -xlabel "feed connections ($who, all acking)" -ylabel ms \
    -y "p50=stats.alert_to_last_client.p50_ms" -y "p99=stats.alert_to_last_client.p99_ms" -o "$OUT/${pre}fanout-last.svg" "$@"
  plot -title "Alert fan-out$suf: commit to each client" -x figures.clients -xlabel "feed connections ($who, all acking)" -ylabel ms \
    -y "p50=stats.alert_to_each_client.p50_ms" -y "p99=stats.alert_to_each_client.p99_ms" -o "$OUT/${pre}fanout-each.svg" "$@"
  plot -title "Server memory per idle connection$suf" -x figures.clients -xlabel "feed connections ($who)" -ylabel "KiB (RSS after GC, all servers)" \
    -y "RSS per connection=figures.server_rss_kib_per_connection" -o "$OUT/${pre}rss.svg" "$@"
  plot -title "Server CPU per 1,000 deliveries$suf" -x figures.clients -xlabel "feed connections ($who, all acking)" -ylabel "CPU ms (all servers)" \
    -y "CPU=figures.server_cpu_ms_per_1000_deliveries" -o "$OUT/${pre}cpu.svg" "$@"
}
feed_charts "" "" "one instance" $(ls "$OUT"/feed-*.json)
if ls "$OUT"/scaled-feed-*.json >/dev/null 2>&1; then
  feed_charts scaled- ", scaled" "two instances" $(ls "$OUT"/scaled-feed-*.json)
fi
claims=$(ls "$OUT"/claims-*.json)
plot -title "Claims: throughput" -x figures.volunteers -xlabel "racing volunteers" -ylabel "requests/s" \
  -y "claim requests=figures.claim_requests_per_second" -o "$OUT/claims-rate.svg" $claims
plot -title "Claims: latency" -x figures.volunteers -xlabel "racing volunteers" -ylabel ms \
  -y "p50=stats.claim_request.p50_ms" -y "p99=stats.claim_request.p99_ms" -o "$OUT/claims-latency.svg" $claims
