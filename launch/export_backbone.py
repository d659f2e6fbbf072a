#!/usr/bin/env python3
"""Exports a torchvision backbone with its ImageNet weights as TorchScript, the
file `model.backbone_weights` (or `--set model.backbone_weights=F`) loads.
Run where torchvision and its weights are available:

    python3 launch/export_backbone.py wideresnet50 wrn50.pt
    python3 launch/export_backbone.py resnet18 r18.pt

Names: resnet18, resnet50, wideresnet50 (torchvision's wide_resnet50_2)."""
import sys

import torch
import torchvision

BUILDERS = {
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
    "wideresnet50": torchvision.models.wide_resnet50_2,
}

if len(sys.argv) != 3 or sys.argv[1] not in BUILDERS:
    sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(BUILDERS)}}} OUT.pt")
name, out = sys.argv[1], sys.argv[2]
try:
    model = BUILDERS[name](weights="IMAGENET1K_V1")   # torchvision >= 0.13
except TypeError:
    model = BUILDERS[name](pretrained=True)           # older torchvision (the reference's 0.11)
model.eval()
torch.jit.script(model).save(out)
print(f"{out}: {name} with ImageNet weights, {sum(p.numel() for p in model.parameters())} parameters")
