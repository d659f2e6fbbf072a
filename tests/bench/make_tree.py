#!/usr/bin/python3
"""A small MVTec-format tree for tests/bench/end_to_end.py, cut from a
`tailedcore synth` tree: some classes, the first N training images of each,
the first few test images of each category, every image (and its mask)
resized to WIDTH x HEIGHT (non-square when they differ: the reference
transform then resizes the shorter side and centre-crops).

  /usr/bin/python3 tests/bench/make_tree.py SYNTH_TREE DEST --classes disc,grain,stripes \\
      --train 9 --test 3 --width 256 --height 256   (or --train 4,9,14)

Images are resized with Pillow's bicubic filter, masks with nearest (they stay 0/255).
"""
import argparse
import os
import shutil

from PIL import Image


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source")
    p.add_argument("dest")
    p.add_argument("--classes", required=True, help="comma-separated class folders of SOURCE")
    p.add_argument("--train", required=True,
                   help="training images per class: one number, or one per class (comma-separated)")
    p.add_argument("--test", type=int, required=True, help="test images per category")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    a = p.parse_args()
    if os.path.exists(a.dest):
        raise SystemExit(f"make_tree.py: {a.dest} exists")
    tmp = a.dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    size = (a.width, a.height)

    def copy(src, dst, mask):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        im = Image.open(src)
        im.resize(size, Image.NEAREST if mask else Image.BICUBIC).save(dst)

    classes = a.classes.split(",")
    train = [int(t) for t in a.train.split(",")]
    if len(train) == 1:
        train *= len(classes)
    if len(train) != len(classes):
        raise SystemExit(f"make_tree.py: --train {a.train}: expected 1 or {len(classes)} counts")
    for cls, n_train in zip(classes, train):
        root = os.path.join(a.source, cls)
        if not os.path.isdir(os.path.join(root, "train", "good")):
            raise SystemExit(f"make_tree.py: {root}/train/good: no such folder (class {cls!r})")
        for f in sorted(os.listdir(os.path.join(root, "train", "good")))[:n_train]:
            copy(os.path.join(root, "train", "good", f), os.path.join(tmp, cls, "train", "good", f), False)
        for cat in sorted(os.listdir(os.path.join(root, "test"))):
            for f in sorted(os.listdir(os.path.join(root, "test", cat)))[: a.test]:
                copy(os.path.join(root, "test", cat, f), os.path.join(tmp, cls, "test", cat, f), False)
                if cat != "good":
                    m = os.path.splitext(f)[0] + "_mask.png"
                    copy(os.path.join(root, "ground_truth", cat, m), os.path.join(tmp, cls, "ground_truth", cat, m),
                         True)
    os.replace(tmp, a.dest)
    print(f"{a.dest}: {a.classes} ({a.train} train, {a.test} test per category, {a.width}x{a.height})")


if __name__ == "__main__":
    main()
