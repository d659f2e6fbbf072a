#!/usr/bin/env bash
# Builds tailedcore (everything: library, executable, tests) against the cluster's CUDA
# PyTorch into build-cuda/. Needs PyTorch 2.7+ (C++11 ABI), an nvcc of PyTorch's CUDA major
# on PATH (module load cuda/...), and the other dependencies of docs/DESIGN.md "Build"
# (FAISS, HDF5 C++, Boost.Program_options, yaml-cpp, OpenCV, MPI, GoogleTest).
#
#   cluster/build_cuda.sh                          # python3's torch
#   TORCH_PREFIX=/opt/libtorch cluster/build_cuda.sh   # a cxx11-ABI libtorch archive
#   cluster/build_cuda.sh --target tailedcore      # extra arguments go to cmake --build
# Environment: BUILD_DIR (build-cuda), JOBS (nproc), CUDA_ARCH (e.g. "80;90"), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-cuda}
TORCH_NCCL_DIR=""
if [ -z "${TORCH_PREFIX:-}" ]; then
  eval "$(launch/find_torch.sh)"
  TORCH_PREFIX=$TORCH_CMAKE_PREFIX
  echo "cluster/build_cuda.sh: PyTorch $TORCH_VERSION (CUDA ${TORCH_CUDA:-none}) at $TORCH_PREFIX" >&2
fi
cfg=(-DCMAKE_BUILD_TYPE=Release -DTAILEDCORE_WITH_CUDA=ON "-DCMAKE_PREFIX_PATH=$TORCH_PREFIX")
if [ -n "$TORCH_NCCL_DIR" ]; then   # PyTorch's own NCCL: one libnccl.so.2 in the process
  cfg+=("-DTC_NCCL_INCLUDE=$TORCH_NCCL_DIR/include"
        "-DTC_NCCL_LIB=$(find "$TORCH_NCCL_DIR/lib" -name 'libnccl.so*' | sort | head -n 1)")
fi
[ -n "${CUDA_ARCH:-}" ] && cfg+=("-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH")
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && cfg+=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${cfg[@]}"
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" "$@"
