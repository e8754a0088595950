#!/usr/bin/env bash
# Smoke test of the load generator against the gateway (CTest: loadgen_smoke,
# label bench). Starts the gateway on free ports, runs four tiny loadgen
# runs (HTTP publishing, gRPC Publish, gRPC PublishBatch, idle clients) and checks that each
# printed its JSON line, exited 0 and (when publishing) delivered every
# expected message. It never asserts speed.
#
#   bash tests/bench/loadgen_smoke.sh <bin_dir>
set -euo pipefail

BIN_DIR=${1:?usage: loadgen_smoke.sh <bin_dir>}
GATEWAY="$BIN_DIR/orderbook-gateway"
LOADGEN="$BIN_DIR/orderbook-loadgen"
for tool in "$GATEWAY" "$LOADGEN"; do
  [ -x "$tool" ] || { echo "loadgen_smoke: missing $tool" >&2; exit 1; }
done

WORK=$(mktemp -d)
GATEWAY_PID=
cleanup() {
  if [ -n "$GATEWAY_PID" ] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
    kill "$GATEWAY_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$GATEWAY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$GATEWAY_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The smoke counts every book (expected == received): no age bound, which
# conflates when a slow gateway (a sanitizer build) lets books wait 20 ms.
"$GATEWAY" --bind=127.0.0.1 --http_port=0 --grpc_port=0 --log_level=warn \
  --session_queue_max_age_ms=0 >"$WORK/gateway.out" 2>"$WORK/gateway.err" &
GATEWAY_PID=$!

READY=
for _ in $(seq 200); do
  READY=$(grep -m1 '^orderbook-gateway ready' "$WORK/gateway.out" || true)
  [ -n "$READY" ] && break
  kill -0 "$GATEWAY_PID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$READY" ]; then
  echo "loadgen_smoke: gateway did not print its ready line" >&2
  cat "$WORK/gateway.err" >&2
  exit 1
fi
HTTP_PORT=$(sed -n 's/.*http=[^ ]*:\([0-9]*\).*/\1/p' <<<"$READY")
GRPC_PORT=$(sed -n 's/.*grpc=[^ ]*:\([0-9]*\).*/\1/p' <<<"$READY")
echo "loadgen_smoke: $READY"

# json_field <json> <key>: the value of a top-level numeric field.
json_field() {
  sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" <<<"$1"
}

FAILED=0
run() {
  local name=$1 check=$2
  shift 2
  local out rc=0
  out=$("$LOADGEN" --host=127.0.0.1 --http_port="$HTTP_PORT" --grpc_port="$GRPC_PORT" \
    --server_pid="$GATEWAY_PID" --scenario="smoke-$name" --drain_s=5 \
    --connect_timeout_s=30 "$@" 2>"$WORK/$name.err") || rc=$?
  local line
  line=$(grep -m1 '^{' <<<"$out" || true)
  echo "loadgen_smoke: $name -> exit $rc: $line"
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    echo "loadgen_smoke: FAIL $name (exit $rc or no JSON line)" >&2
    cat "$WORK/$name.err" >&2
    FAILED=1
    return
  fi
  if [ "$check" = delivery ]; then
    local expected received
    expected=$(json_field "$line" expected)
    received=$(json_field "$line" received)
    if [ -z "$expected" ] || [ "$expected" = 0 ] || [ "$expected" != "$received" ]; then
      echo "loadgen_smoke: FAIL $name (expected=$expected received=$received)" >&2
      FAILED=1
    fi
  fi
}

# Paced well below any server's capacity: flat out, the gateway conflates
# (replaces queued books of a slow client by newer ones, by design), so
# received == expected would be a speed assertion.
run http delivery --publish=http --clients=20 --symbols=4 --subs_per_client=2 \
  --duration_s=1 --publishers=2 --rate=2000
run grpc delivery --publish=grpc --clients=20 --symbols=4 --subs_per_client=2 \
  --duration_s=1 --publishers=2 --rate=2000
run grpc-batch delivery --publish=grpc-batch --batch_size=10 --clients=20 --symbols=4 \
  --subs_per_client=2 --duration_s=1 --publishers=2 --rate=2000
run idle connect --publish=none --clients=50 --symbols=4 --subs_per_client=1

if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
  echo "loadgen_smoke: FAIL gateway exited during the test" >&2
  cat "$WORK/gateway.err" >&2
  FAILED=1
fi
[ "$FAILED" -eq 0 ] && echo "loadgen_smoke: OK"
exit "$FAILED"
