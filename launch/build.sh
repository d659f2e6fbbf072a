#!/usr/bin/env bash
# Configures and builds (Release) into ${BUILD_DIR:-build}. Used by test.sh and run.sh.
# Extra arguments are passed to `cmake --build` (e.g. --target tailedcore).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" "$@"
