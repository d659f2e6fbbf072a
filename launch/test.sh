#!/usr/bin/env bash
# The test command: installs what is missing, builds (Release), runs every test
# through CTest (unit, e2e, and the MPI suite under mpirun with 1, 2, 3 ranks).
set -euo pipefail
cd "$(dirname "$0")/.."
./launch/setup.sh
# Open MPI refuses root unless told; CI runs as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
BUILD_DIR=${BUILD_DIR:-build} ./launch/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"${CTEST_JOBS:-2}" "$@"
