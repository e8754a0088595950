#!/usr/bin/env bash
# Installs the dependencies (if missing) and builds everything into build/
# (override with BUILD_DIR and BUILD_TYPE; extra CMake options in CMAKE_ARGS,
# separated by spaces, none containing one: see run-tests.sh). Used by run-demo.sh
# and run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}

if [ "$(id -u)" -eq 0 ]; then
  bash deploy/install-deps.sh
else
  echo "build.sh: not root, skipping deploy/install-deps.sh (run it as root once)"
fi
# ccache, where a developer installed it, makes rebuilds of other trees cheap;
# the build does not need it.
launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of options
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" $launcher ${CMAKE_ARGS:-} >/dev/null
echo "build.sh: building ($BUILD_TYPE) in $BUILD_DIR/ with $(nproc) jobs; the first build takes several minutes"
cmake --build "$BUILD_DIR" -j"$(nproc)"
