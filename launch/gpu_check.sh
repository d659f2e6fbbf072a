#!/usr/bin/env bash
# The GPU check, for a machine with a CUDA device: configures with CUDA + NCCL
# forced on, builds the CUDA/NCCL tests and benchmark, runs them on the device,
# and writes the results under results/bench/gpu/.
#
#   launch/gpu_check.sh                       # system LibTorch (CPU) + /usr/local/cuda
#   TORCH_DIR=/opt/libtorch/share/cmake/Torch launch/gpu_check.sh   # a CUDA LibTorch
#   CMAKE_PREFIX_PATH=/opt/libtorch launch/gpu_check.sh             # (also honoured)
#
# Environment: BUILD_DIR (build-gpu), JOBS (nproc), CUDA_ARCH (CMake's list, e.g.
# "90"; default from CMakeLists.txt), TARGETS (what to build; default below),
# BENCH_ARGS (bench_greedy_device's rows dim steps; "200000 128 1000").
# The CPU-only benchmarks (bench_coreset, ...) are not run here: they write to
# results/bench/ and belong to the CPU runs.
# Exit status: non-zero if the build or any test fails, or if a CUDA test
# skipped although a device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-gpu}
OUT=results/bench/gpu
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LOG="$OUT/gpu_check.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

say "== $(date -u +%FT%TZ) on $(hostname)"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/devices.csv" | tee -a "$LOG" || say "nvidia-smi: not available"

cfg=(-DCMAKE_BUILD_TYPE=Release -DTAILEDCORE_WITH_CUDA=ON)
[ -n "${TORCH_DIR:-}" ] && cfg+=("-DTorch_DIR=$TORCH_DIR")
[ -n "${CUDA_ARCH:-}" ] && cfg+=("-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH")
say "== configure: cmake -S . -B $BUILD_DIR ${cfg[*]}"
cmake -S . -B "$BUILD_DIR" "${cfg[@]}" 2>&1 | tail -n 5 | tee -a "$LOG"

TARGETS=${TARGETS:-"test_dist test_sampling test_mpi bench_greedy_device"}
say "== build: $TARGETS"
t0=$(date +%s)
# shellcheck disable=SC2086
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" --target $TARGETS 2>&1 | tail -n 20 | tee -a "$LOG"
say "build took $(( $(date +%s) - t0 )) s"

status=0
run_test() {  # name, binary, gtest filter, [launcher...]
  local name=$1 bin=$2 filter=$3
  shift 3
  if [ ! -x "$bin" ]; then say "-- $name: $bin not built"; status=1; return; fi
  say "== $name: $* $bin --gtest_filter=$filter"
  local rc=0
  "$@" "$bin" --gtest_color=no --gtest_filter="$filter" >"$OUT/$name.log" 2>&1 || rc=$?
  tail -n 15 "$OUT/$name.log" | tee -a "$LOG"
  if [ $rc -ne 0 ]; then say "!! $name failed (exit $rc)"; status=1; fi
  # Per-test skip lines name the test; only the "without CUDA" checks may skip here.
  if [ "$GPUS" -gt 0 ] && grep -E '^\[  SKIPPED \] [A-Za-z]' "$OUT/$name.log" | grep -vq WithoutCuda; then
    say "!! $name: a CUDA test skipped although $GPUS device(s) are present"; status=1
  fi
}
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
run_test nccl_one_rank "$BUILD_DIR/tests/test_dist" 'NcclComm*:NcclOneRank*'
run_test greedy_device "$BUILD_DIR/tests/test_sampling" 'GreedyDevice*'
# NcclComm over MPI: one rank per GPU (NCCL refuses two ranks on one GPU).
NP=$(( GPUS > 0 ? GPUS : 1 ))
run_test nccl_mpi_np$NP "$BUILD_DIR/tests/test_mpi" 'NcclWorld*:Comm*' \
  mpirun -np "$NP" --oversubscribe --allow-run-as-root --bind-to none

bin="$BUILD_DIR/tests/bench_greedy_device"
if [ -x "$bin" ]; then
  args=${BENCH_ARGS:-"200000 128 1000"}
  say "== bench_greedy_device $args"
  # shellcheck disable=SC2086
  "$bin" $args 2>&1 | tee "$OUT/bench_greedy_device.log" | tail -n 5 | tee -a "$LOG" ||
    { say "!! bench_greedy_device failed"; status=1; }
else
  say "-- bench_greedy_device not built"
fi

{
  echo "# GPU check ($(date -u +%F), $(hostname))"
  echo
  echo "Command: \`launch/gpu_check.sh\` (BUILD_DIR=$BUILD_DIR${TORCH_DIR:+, TORCH_DIR=$TORCH_DIR})"
  echo
  echo "Devices:"; echo; echo '```'; cat "$OUT/devices.csv" 2>/dev/null; echo '```'
  echo
  echo "Greedy coreset step, GPU vs CPU in the same run (results/bench/gpu/greedy_step.csv):"
  echo; echo '```'; cat "$OUT/greedy_step.csv" 2>/dev/null || echo "(not measured)"; echo '```'
  echo
  echo "Exit status: $status (logs: results/bench/gpu/*.log)"
} >"$OUT/README.md"
say "== done: status $status; summary in $OUT/README.md"
exit $status
