#!/usr/bin/env bash
# Prints, as shell assignments, where this machine's PyTorch keeps its LibTorch, for
#   eval "$(launch/find_torch.sh)"      (launch/gpu_check.sh, cluster/build_cuda.sh)
# TORCH_CMAKE_PREFIX (for CMAKE_PREFIX_PATH), TORCH_VERSION, TORCH_CUDA (e.g. 13.0; empty for a
# CPU build), TORCH_CXX11_ABI (1 or 0), TORCH_CUDA_AVAILABLE (1 or 0), TORCH_NCCL_DIR (the
# nvidia-nccl wheel next to torch, with include/nccl.h; empty if none).
# PYTHON picks the interpreter (python3). Exit 1, with one line, if it cannot import torch.
set -euo pipefail
PY=${PYTHON:-python3}
"$PY" - <<'PYEOF' || { echo "launch/find_torch.sh: $PY cannot import torch; expected PyTorch 2.7+ (or give TORCH_PREFIX=<libtorch root>)" >&2; exit 1; }
import os, shlex, torch
nccl = os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), "nvidia", "nccl")
values = {
    "TORCH_CMAKE_PREFIX": torch.utils.cmake_prefix_path,
    "TORCH_VERSION": torch.__version__,
    "TORCH_CUDA": torch.version.cuda or "",
    "TORCH_CXX11_ABI": str(int(torch._C._GLIBCXX_USE_CXX11_ABI)),
    "TORCH_CUDA_AVAILABLE": str(int(torch.cuda.is_available())),
    "TORCH_NCCL_DIR": nccl if os.path.isfile(os.path.join(nccl, "include", "nccl.h")) else "",
}
for k, v in values.items():
    print(f"{k}={shlex.quote(v)}")
PYEOF
