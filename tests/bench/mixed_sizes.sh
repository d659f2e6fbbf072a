#!/bin/bash
# A pooled training set of three native sizes (VisA's case) at `full` -- each
# image on its own patch grid, LOF per position among the images of one grid
# (DESIGN.md "Mixed native sizes") -- against a common resize (the reference's
# Resize(R) + CenterCrop(R), every image on one R x R grid): image and pixel
# AUROC of PatchCore, SoftPatch and TailedCore (results/bench/mixed_sizes.md).
#
#   tests/bench/mixed_sizes.sh BUILD_DIR WORK_DIR
#
# The tree: `tailedcore synth --layout small` cut by tests/bench/make_tree.py
# to checker, disc at 96 x 64; grain, mesh at 80 x 80; speckle, stripes at
# 64 x 96 (w x h), with 24, 8, 24, 6, 24, 4 training images (a long tail) and
# 3 test images per category. Environment: COMMON (the common resize, 80:
# about the pixels of each native size), RATIO (greedy ratio, 0.1).
set -euo pipefail
build=$(realpath "$1")
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tc=$build/tailedcore
common=${COMMON:-80} ratio=${RATIO:-0.1}
mkdir -p "$work"
work=$(realpath "$work")
if [ ! -d "$work/tree" ]; then
  "$tc" synth --layout small --dest "$work/synth" --threads 2 --force > /dev/null
  rm -rf "$work/parts" "$work/tree.tmp" && mkdir -p "$work/parts" "$work/tree.tmp"
  /usr/bin/python3 "$here/make_tree.py" "$work/synth" "$work/parts/a" --classes checker,disc \
    --train 24,8 --test 3 --width 96 --height 64
  /usr/bin/python3 "$here/make_tree.py" "$work/synth" "$work/parts/b" --classes grain,mesh \
    --train 24,6 --test 3 --width 80 --height 80
  /usr/bin/python3 "$here/make_tree.py" "$work/synth" "$work/parts/c" --classes speckle,stripes \
    --train 24,4 --test 3 --width 64 --height 96
  mv "$work"/parts/*/* "$work/tree.tmp/" && mv "$work/tree.tmp" "$work/tree"
fi
for mode in full common; do
  if [ $mode = full ]; then size=full; crop=full; else size=$common; crop=$common; fi
  for m in patchcore softpatch tailedcore; do
    out=$work/out-$mode
    "$tc" run -c "$root/configs/quickstart.yaml" --data "$work/tree" --out "$out" --run-id "$m" \
      --pictures 0 --set data.resize=$size --set data.imagesize=$crop --set data.inputsize=$crop \
      --set model.greedy_ratio=$ratio --set model.coreset_model_name=$m > "$work/log-$mode-$m.txt" 2>&1
  done
done
/usr/bin/python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
print("| method | mode | image AUROC (mean) | pixel AUROC (mean) | per class image AUROC |")
print("| --- | --- | --- | --- | --- |")
for m in ("patchcore", "softpatch", "tailedcore"):
    for mode in ("full", "common"):
        rows = list(csv.DictReader(open(f"{work}/out-{mode}/tree/quickstart/{m}/metrics.csv")))
        mean = next(r for r in rows if r["class"] == "mean")
        per = ", ".join(f"{r['class']} {float(r['image_auroc']):.3f}" for r in rows if r["class"] not in ("mean", "std"))
        print(f"| {m} | {mode} | {float(mean['image_auroc']):.4f} | {float(mean['pixel_auroc']):.4f} | {per} |")
PY
