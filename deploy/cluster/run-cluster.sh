#!/usr/bin/env bash
# Runs a local cluster for trying things out: one redis-server, N gateway
# nodes sharing it (--redis_url, --threads=1), nginx balancing WebSockets,
# REST and gRPC ingest over the nodes, the demo feed publishing into node 1
# (directly: the freshest path) and, with PROMETHEUS=1, Debian's prometheus
# scraping every node with the alert rules of deploy/prometheus/. Ctrl-C stops everything it started. Not for
# production (see README.md next to it).
#
#   bash deploy/cluster/run-cluster.sh
#
# Environment (defaults in brackets):
#   NODES       number of gateway nodes [2]
#   LISTEN      nginx's address:port [0.0.0.0:8080]
#   GRPC_LISTEN nginx's gRPC (HTTP/2) address:port, balanced over the
#               nodes' gRPC ports [0.0.0.0:50050]
#   HTTP_BASE   node i listens on HTTP_BASE+i for HTTP/WebSocket [8100]
#   GRPC_BASE   ... and on GRPC_BASE+i for gRPC [50150]
#   REDIS_PORT  port of the redis-server started here [6380, not 6379: a
#               system Redis may own that one]
#   REDIS_URL   use this Redis instead of starting one
#   FEED        1: run orderbook-feed into node 1's gRPC port; 0: no feed [1]
#   PROMETHEUS  1: run prometheus (deploy/prometheus/prometheus.yml and
#               alerts.yml, a targets file listing the nodes); 0: none [0]
#   PROMETHEUS_LISTEN  its address:port [127.0.0.1:9090]
#   PROMETHEUS_SCRAPE_INTERVAL  scrape and rule evaluation interval [5s]
#   BUILD_DIR   where the binaries are [build]; built with deploy/build.sh if missing
#   STATE_DIR   logs and nginx's files [$BUILD_DIR/cluster]
set -euo pipefail
cd "$(dirname "$0")/../.."

NODES=${NODES:-2}
LISTEN=${LISTEN:-0.0.0.0:8080}
GRPC_LISTEN=${GRPC_LISTEN:-0.0.0.0:50050}
HTTP_BASE=${HTTP_BASE:-8100}
GRPC_BASE=${GRPC_BASE:-50150}
REDIS_PORT=${REDIS_PORT:-6380}
FEED=${FEED:-1}
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/bin
STATE_DIR=${STATE_DIR:-$BUILD_DIR/cluster}
NGINX=${NGINX:-/usr/sbin/nginx}
PROMETHEUS=${PROMETHEUS:-0}
PROMETHEUS_LISTEN=${PROMETHEUS_LISTEN:-127.0.0.1:9090}
PROMETHEUS_SCRAPE_INTERVAL=${PROMETHEUS_SCRAPE_INTERVAL:-5s}

die() {
  echo "run-cluster.sh: $*" >&2
  exit 1
}

[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "NODES must be a positive number, not '$NODES'"
[ -x "$NGINX" ] || die "$NGINX missing: bash deploy/install-deps.sh (package nginx-light)"
if [ "$PROMETHEUS" = 1 ]; then
  command -v prometheus >/dev/null || die "prometheus missing: bash deploy/install-deps.sh"
  [[ $PROMETHEUS_SCRAPE_INTERVAL =~ ^[1-9][0-9]*(ms|s|m)$ ]] ||
    die "PROMETHEUS_SCRAPE_INTERVAL must be a duration like 5s, not '$PROMETHEUS_SCRAPE_INTERVAL'"
fi
if [ ! -x "$BIN/orderbook-gateway" ]; then
  BUILD_DIR=$BUILD_DIR bash deploy/build.sh
fi
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)

pids=()
stop_all() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] || return 0
  echo
  echo "run-cluster.sh: stopping ${#pids[@]} processes"
  # Newest first: the feed and nginx before the nodes, the nodes before Redis.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  pids=()
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

# wait_http URL NAME: polls until URL answers 200, or gives up after 15 s.
wait_http() {
  for _ in $(seq 150); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  die "$2 did not answer $1 within 15 s; see $STATE_DIR"
}

if [ -z "${REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null || die "redis-server missing: bash deploy/install-deps.sh"
  # No persistence: a demo's Redis starts empty (the cluster epoch is then
  # new, and clients see seq restart with it; see docs/operations.md).
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$STATE_DIR" >"$STATE_DIR/redis.log" 2>&1 &
  pids+=($!)
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis_shown=$REDIS_URL
else
  # The URL may carry a password: never print it.
  redis_shown=$(sed -E 's#(://[^:@/]*:)[^@]*@#\1***@#' <<<"$REDIS_URL")
fi

upstreams=()
grpc_upstreams=()
for ((i = 1; i <= NODES; i++)); do
  http=$((HTTP_BASE + i))
  grpc=$((GRPC_BASE + i))
  # The URL goes through the environment, not argv, so `ps` does not show
  # a password.
  REDIS_URL=$REDIS_URL "$BIN/orderbook-gateway" --http_port="$http" --grpc_port="$grpc" \
    --threads=1 --node_id="node$i" >"$STATE_DIR/node$i.log" 2>&1 &
  pids+=($!)
  upstreams+=("127.0.0.1:$http")
  grpc_upstreams+=("--grpc-node=127.0.0.1:$grpc")
done
for ((i = 1; i <= NODES; i++)); do
  wait_http "http://127.0.0.1:$((HTTP_BASE + i))/health" "node $i"
done

conf=$(bash deploy/cluster/render-nginx-conf.sh --grpc-listen="$GRPC_LISTEN" "${grpc_upstreams[@]}" \
  "$STATE_DIR/nginx" "$LISTEN" "${upstreams[@]}")
"$NGINX" -p "$STATE_DIR/nginx" -c "$conf" -e "$STATE_DIR/nginx/error.log" &
pids+=($!)
port=${LISTEN##*:}
wait_http "http://127.0.0.1:$port/health" nginx

if [ "$FEED" = 1 ]; then
  "$BIN/orderbook-feed" --target="127.0.0.1:$((GRPC_BASE + 1))" --symbols=10 --rate=20 \
    >"$STATE_DIR/feed.log" 2>&1 &
  pids+=($!)
fi

if [ "$PROMETHEUS" = 1 ]; then
  # The shipped configuration, with a shorter interval for trying things out,
  # and a target file naming this cluster's nodes (file_sd: targets/*.yml).
  prom=$STATE_DIR/prometheus
  mkdir -p "$prom/targets" "$prom/data"
  sed -E "s/^(  (scrape|evaluation)_interval:) 15s$/\1 $PROMETHEUS_SCRAPE_INTERVAL/" \
    deploy/prometheus/prometheus.yml >"$prom/prometheus.yml"
  [ "$(grep -c "_interval: $PROMETHEUS_SCRAPE_INTERVAL\$" "$prom/prometheus.yml")" = 2 ] ||
    die "deploy/prometheus/prometheus.yml no longer has the two 15s intervals this script sets"
  cp deploy/prometheus/alerts.yml "$prom/"
  {
    for ((i = 1; i <= NODES; i++)); do
      printf -- '- targets: ["127.0.0.1:%d"]\n  labels: {node: node%d}\n' "$((HTTP_BASE + i))" "$i"
    done
  } >"$prom/targets/cluster.yml"
  prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
    --web.listen-address="$PROMETHEUS_LISTEN" >"$STATE_DIR/prometheus.log" 2>&1 &
  pids+=($!)
  wait_http "http://$PROMETHEUS_LISTEN/-/ready" prometheus
fi

echo "run-cluster.sh: $NODES nodes behind nginx; Ctrl-C stops everything"
echo "  nginx      http://$LISTEN   ws://localhost:$port/ws/<client_id>   grpc=$GRPC_LISTEN"
for ((i = 1; i <= NODES; i++)); do
  echo "  node$i      http=127.0.0.1:$((HTTP_BASE + i)) grpc=127.0.0.1:$((GRPC_BASE + i))"
done
echo "  redis      $redis_shown"
[ "$FEED" = 1 ] && echo "  feed       10 symbols at 20 books/s into node1's gRPC port"
if [ "$PROMETHEUS" = 1 ]; then
  echo "  prometheus http://$PROMETHEUS_LISTEN/targets  (alerts: /alerts; scrape every $PROMETHEUS_SCRAPE_INTERVAL)"
fi
echo "  logs       $STATE_DIR/{redis,node*,feed,prometheus}.log, $STATE_DIR/nginx/{error,access}.log"
echo "try: curl -s localhost:$port/health; curl -s localhost:$((HTTP_BASE + 2))/stats"
wait -n "${pids[@]}" || true
die "a process exited; see the logs in $STATE_DIR"
