#!/usr/bin/env bash
# Builds the gateway and runs it with the demo feed: the gateway on
# HTTP/WebSocket :8002 and gRPC :50051, and orderbook-feed streaming moving
# books for 10 symbols at 20 updates/s. Ctrl-C stops both.
#   Watch:  curl -s localhost:8002/stats
#   Listen: any WebSocket client on ws://localhost:8002/ws/me, send
#           {"action":"subscribe","symbol":"AAPL"}
# Publisher auth: PUBLISH_TOKEN=$(openssl rand -hex 32) deploy/run-demo.sh
# makes the gateway require that token (--publish_tokens) and the feed send
# it; unset, anyone may publish (the gateway warns about it at start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
BIN=${BUILD_DIR:-build}/bin

feed=""
# The token travels in the environment (PUBLISH_TOKENS for the gateway,
# PUBLISH_TOKEN for the feed), not on command lines that ps shows.
if [[ -n "${PUBLISH_TOKEN:-}" ]]; then export PUBLISH_TOKENS="$PUBLISH_TOKEN" PUBLISH_TOKEN; fi
"$BIN/orderbook-gateway" --http_port="${HTTP_PORT:-8002}" --grpc_port="${GRPC_PORT:-50051}" &
gateway=$!
trap 'kill $feed $gateway 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
"$BIN/orderbook-feed" --target="127.0.0.1:${GRPC_PORT:-50051}" --symbols=10 --rate=20 &
feed=$!
echo "run-demo.sh: gateway pid $gateway, feed pid $feed; try: curl -s localhost:${HTTP_PORT:-8002}/stats"
wait $gateway
