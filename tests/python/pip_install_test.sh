#!/usr/bin/env bash
# The Python package installs offline with pip, as docs/integration.md says:
# into a venv that sees Debian's python3-grpcio and python3-protobuf
# (--system-site-packages), with `pip install --no-index --no-build-isolation`; setup.py
# generates the gRPC stubs. The package is copied first (pip builds in place), so the
# checkout stays clean. Usage: pip_install_test.sh <ingest/python> <scratch dir>
set -euo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cp -r "$src" "$work/src"
rm -rf "$work/src/build" "$work/src/"*.egg-info
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
ORDERBOOK_GATEWAY_PROTO_PATH="$(cd "$src/../../proto" && pwd)" \
  "$work/venv/bin/python" -m pip install --no-index --no-build-isolation --quiet "$work/src"
# Imported from the venv alone (no PYTHONPATH, another directory): the stubs came with it.
cd "$work"
env -u PYTHONPATH "$work/venv/bin/python" - <<'PY'
import orderbook_gateway, os
from orderbook_gateway._stubs import pb
assert "/venv/" in orderbook_gateway.__file__, orderbook_gateway.__file__
u = orderbook_gateway.to_update("AAPL", {"bids": [[1.5, 2, 3]], "asks": []})
assert pb.OrderBookUpdate.FromString(u.SerializeToString()) == u
print("installed", orderbook_gateway.__version__, "at", os.path.dirname(orderbook_gateway.__file__))
PY
