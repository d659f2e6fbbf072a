#!/bin/bash
# A pooled training set of three native sizes (VisA's case) at `full` -- each
# image on its own patch grid, LOF per position among the images of one grid
# (DESIGN.md "Mixed native sizes") -- against a common resize (the reference's
# Resize(R) + CenterCrop(R), every image on one R x R grid): image and pixel
# AUROC of PatchCore, SoftPatch and TailedCore (results/bench/mixed_sizes.md).
#
#   tests/bench/mixed_sizes.sh BUILD_DIR WORK_DIR
#
# Per synth seed, a tree: `tailedcore synth --layout small --seed S` cut by
# tests/bench/make_tree.py to checker, disc at 96 x 64; grain, mesh at 80 x 80;
# speckle, stripes at 64 x 96 (w x h), with 24, 8, 24, 6, 24, 4 training
# images (a long tail) and up to 8 test images per category (20 a class).
# Environment: SEEDS ("0 1 2"), COMMON (the common resize, 80: about the
# pixels of each native size), RATIO (greedy ratio, 0.1).
set -euo pipefail
build=$(realpath "$1")
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tc=$build/tailedcore
seeds=${SEEDS:-0 1 2} common=${COMMON:-80} ratio=${RATIO:-0.1}
mkdir -p "$work"
work=$(realpath "$work")
for seed in $seeds; do
  tree=$work/tree-$seed
  if [ ! -d "$tree" ]; then
    "$tc" synth --layout small --seed "$seed" --dest "$work/synth-$seed" --threads 2 --force > /dev/null
    rm -rf "$work/parts-$seed" "$tree.tmp" && mkdir -p "$work/parts-$seed" "$tree.tmp"
    cut() {  # part classes train width height
      /usr/bin/python3 "$here/make_tree.py" "$work/synth-$seed" "$work/parts-$seed/$1" --classes "$2" \
        --train "$3" --test 8 --width "$4" --height "$5" > /dev/null
    }
    cut a checker,disc 24,8 96 64
    cut b grain,mesh 24,6 80 80
    cut c speckle,stripes 24,4 64 96
    mv "$work/parts-$seed"/*/* "$tree.tmp/" && mv "$tree.tmp" "$tree"
  fi
  for mode in full common; do
    if [ $mode = full ]; then size=full; else size=$common; fi
    for m in patchcore softpatch tailedcore; do
      "$tc" run -c "$root/configs/quickstart.yaml" --data "$tree" --out "$work/out-$seed-$mode" \
        --run-id "$m" --pictures 0 --set data.resize=$size --set data.imagesize=$size \
        --set data.inputsize=$size --set model.greedy_ratio=$ratio \
        --set model.coreset_model_name=$m > "$work/log-$seed-$mode-$m.txt" 2>&1
    done
  done
done
/usr/bin/python3 - "$work" $seeds <<'PY'
import csv, sys
work, seeds = sys.argv[1], sys.argv[2:]
def metrics(seed, mode, m):
    rows = list(csv.DictReader(open(f"{work}/out-{seed}-{mode}/tree-{seed}/quickstart/{m}/metrics.csv")))
    return {r["class"]: r for r in rows}
print("| method | mode | image AUROC per seed (" + ", ".join(seeds) + ") | image AUROC mean | pixel AUROC mean |")
print("| --- | --- | --- | --- | --- |")
for m in ("patchcore", "softpatch", "tailedcore"):
    for mode in ("full", "common"):
        runs = [metrics(s, mode, m)["mean"] for s in seeds]
        img = [float(r["image_auroc"]) for r in runs]
        pix = [float(r["pixel_auroc"]) for r in runs]
        print(f"| {m} | {mode} | {', '.join(f'{v:.2f}' for v in img)} | {sum(img) / len(img):.2f} "
              f"| {sum(pix) / len(pix):.2f} |")
print()
print("Per class image AUROC, mean over seeds (full / common):")
print()
classes = ["checker", "disc", "grain", "mesh", "speckle", "stripes"]
print("| method | " + " | ".join(classes) + " |")
print("| --- | " + " | ".join("---" for _ in classes) + " |")
for m in ("patchcore", "softpatch", "tailedcore"):
    cells = []
    for c in classes:
        v = {mode: sum(float(metrics(s, mode, m)[c]["image_auroc"]) for s in seeds) / len(seeds)
             for mode in ("full", "common")}
        cells.append(f"{v['full']:.1f} / {v['common']:.1f}")
    print(f"| {m} | " + " | ".join(cells) + " |")
PY
