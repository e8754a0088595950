#!/usr/bin/env bash
# Capacity of one gateway node per core (docs/operations.md section 14): the
# gateway alone on CPU 0 (`taskset -c 0`, --threads=1), orderbook-loadgen on
# CPU 1, nothing else running (hold `flock -x /work/bench.lock` or run it on
# a quiet machine). Prints one loadgen JSON line per run, prefixed by the
# run's name:
#   idle-N        N idle subscribed WebSockets: connect time, RSS per connection
#   ingest-grpc   books/s accepted over 4 gRPC Publish streams, flat out, 10 clients
#   ingest-rest   the same over 4 HTTP keep-alive connections (POST /broadcast/orderbook)
#   fanout-N      frames/s delivered to N subscribers (10 symbols, N/10 each), flat out
#   paced-N-R     R books/s offered to N subscribers: latency when the node keeps up
#
#   bash tests/deploy/measure_capacity.sh build/bin [IDLE_CONNECTIONS]
#
# A measuring tool, not a test: it asserts nothing. IDLE_CONNECTIONS defaults
# to what the open-file limit allows (each connection is a descriptor in the
# gateway and one in the loadgen).
set -euo pipefail
BIN=${1:?usage: measure_capacity.sh <bin_dir> [idle_connections]}
# Root may raise its own hard limit; the loadgen's clients all come from
# 127.0.0.1 to one port, so the local port range (about 28,000 ports by
# default) bounds the idle run too.
ulimit -Hn 65536 2>/dev/null || true
limit=$(ulimit -Hn)
read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_high - port_low - 1000))
max=$(((limit - 200) < ports ? (limit - 200) : ports))
IDLE=${2:-$((max / 1000 * 1000))}
WORK=$(mktemp -d)
gw=
stop_gateway() {
  if [ -n "$gw" ]; then
    kill "$gw" 2>/dev/null || true
    wait "$gw" 2>/dev/null || true
    gw=
  fi
}
trap 'stop_gateway; rm -rf "$WORK"' EXIT

start_gateway() {
  ulimit -n "$limit"
  taskset -c 0 "$BIN/orderbook-gateway" --threads=1 --bind=127.0.0.1 --http_port=0 --grpc_port=0 \
    --log_level=warn "$@" >"$WORK/gw.out" 2>&1 &
  gw=$!
  for _ in $(seq 100); do
    grep -q '^orderbook-gateway ready' "$WORK/gw.out" && break
    sleep 0.1
  done
  ready=$(grep -m1 '^orderbook-gateway ready' "$WORK/gw.out") || { cat "$WORK/gw.out"; exit 1; }
  http=$(sed -E 's/.*http=[^ ]*:([0-9]+).*/\1/' <<<"$ready")
  grpc=$(sed -E 's/.*grpc=[^ ]*:([0-9]+).*/\1/' <<<"$ready")
}

loadgen() {
  local name=$1
  shift
  ulimit -n "$limit"
  printf '%s ' "$name"
  taskset -c 1 "$BIN/orderbook-loadgen" --http_port="$http" --grpc_port="$grpc" \
    --server_pid="$gw" --scenario="$name" "$@"
}

echo "# $(date -u +%FT%TZ) commit $(git -C "$(dirname "$0")" rev-parse --short HEAD)" \
  "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), fd limit $limit," \
  "local ports $port_low-$port_high"

start_gateway
loadgen "idle-$IDLE" --publish=none --clients="$IDLE" --symbols=10 --reader_threads=1 \
  --connect_timeout_s=300
stop_gateway

start_gateway
loadgen ingest-grpc --publish=grpc --publishers=4 --clients=10 --rate=0 --duration_s=10
stop_gateway
start_gateway
loadgen ingest-rest --publish=http --publishers=4 --clients=10 --rate=0 --duration_s=10
stop_gateway

for n in 1000 5000; do
  start_gateway
  loadgen "fanout-$n" --publish=grpc --publishers=2 --clients="$n" --symbols=10 --rate=0 \
    --duration_s=10 --reader_threads=1
  stop_gateway
done
for spec in 1000:1000 5000:200; do
  n=${spec%:*} rate=${spec#*:}
  start_gateway
  loadgen "paced-$n-$rate" --publish=grpc --publishers=2 --clients="$n" --symbols=10 \
    --rate="$rate" --duration_s=10 --reader_threads=1
  stop_gateway
done
