#!/usr/bin/env bash
# Installs every Debian 12 package orderbook-gateway needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt; safe to run again.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang clang-format
  # sanitizer and libFuzzer runtimes for clang, llvm-symbolizer for readable reports
  libclang-rt-14-dev llvm
  # gRPC 1.51 + Protobuf 3.21
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # Boost 1.81 explicitly: plain libboost-dev is 1.74
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  # abseil, logging, queue, Redis client, OpenSSL
  libabsl-dev libspdlog-dev libfmt-dev libconcurrentqueue-dev libhiredis-dev libssl-dev
  # permessage-deflate (--ws_deflate)
  zlib1g-dev
  # JWT verification for browser auth (gateway/auth); the openssl CLI makes the tests' certificates;
  # PyJWT mints tokens in the tests and in docs/security.md's Python example
  libjwt-dev openssl python3-jwt python3-cryptography
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev redis-server curl python3
  # the standard gRPC protos (grpc.health.v1, grpc.reflection.v1alpha) for orderbook-probe's
  # health check and the tests' health and reflection clients (issue 13, grpc)
  grpc-proto
  # promtool checks the /metrics text (tests/integration/metrics_test)
  prometheus
  # the two-node example (deploy/cluster) balances WebSockets through nginx
  nginx-light
  # a real browser for the end-to-end test of the guide's WebSocketClient and the browser tests
  # of the live page (tests/browser: playwright-core drives this chromium, it downloads none)
  chromium
  # deploy/ checks (tests/deploy): `docker-compose config` parses deploy/docker-compose.yml
  # (Debian's v1.29; no Docker engine needed), systemd-analyze verifies the unit
  docker-compose systemd
  # tests/deploy reads the resolved compose file (YAML from `docker-compose config`)
  python3-yaml
  # peers for side-by-side benchmarks (python-seed: FastAPI; node-ws: Node.js)
  python3-fastapi python3-uvicorn python3-websockets python3-matplotlib
  # the Python publisher package (ingest/python): gRPC 1.51 and Protobuf 3.21 runtimes matching the
  # stubs CMake generates with protoc + grpc_python_plugin (protobuf-compiler-grpc above);
  # python3-setuptools, python3-pip and python3-venv: `pip install --no-index --no-build-isolation`
  # of ingest/python into a venv with --system-site-packages (tests/python/pip_install_test.sh)
  python3-grpcio python3-protobuf python3-setuptools python3-pip python3-venv
  # futu.py reads Futu times in the market time zone (zoneinfo needs the tz database)
  tzdata
)

# Node.js (with npm) runs the node-ws peer and the browser tests, whose one npm package
# (playwright-core, pinned in tests/browser/package-lock.json) CTest's browser_npm_ci installs
# with `npm ci` into tests/browser/node_modules; a machine may already carry a newer Node from
# elsewhere, whose npm conflicts with Debian's, so install Debian's only when none is present.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps.sh: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps.sh: done"
