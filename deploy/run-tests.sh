#!/usr/bin/env bash
# Builds everything and runs every test (unit, integration, benchmark smoke
# runs) through CTest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j2
