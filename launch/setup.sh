#!/usr/bin/env bash
# Installs every system package the project needs (Debian 12 names).
# Idempotent and quiet when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-openmp        # optimized BLAS: LibTorch is ~30x slower without it
  libfaiss-dev libopenmpi-dev openmpi-bin
  libhdf5-dev libboost-program-options-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libopencv-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "launch/setup.sh: missing packages: ${missing[*]}" >&2
  echo "launch/setup.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "launch/setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
