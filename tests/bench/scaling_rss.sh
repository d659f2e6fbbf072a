#!/bin/bash
# Memory and time of one SoftPatch run at 1, 2 and 3 ranks on a non-square
# synthetic tree whose 1024-d training bank dominates memory
# (results/bench/scaling_rss.md): peak RSS of every rank (/usr/bin/time),
# time per stage and the greedy's bytes per step (from the run log), and a
# check that every rank count gives the same coreset and scores.
#
#   tests/bench/scaling_rss.sh BUILD_DIR WORK_DIR [RANKS...]   (default ranks: 1 2 3)
#
# The tree: `tailedcore synth --layout small`, cut by make_tree.py to
# 4, 9, 14, 20, 30, 40 training images of the six classes (a long tail) and
# 2 test images per category, every image 640 x 448 (native resolution:
# an 80 x 56 patch grid, 4,480 rows of 4 KiB an image).
set -euo pipefail
build=$(realpath "$1")
work=$2
shift 2
ranks=${*:-1 2 3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tc=$build/tailedcore
mkdir -p "$work"
work=$(realpath "$work")
if [ ! -d "$work/tree" ]; then
  "$tc" synth --layout small --dest "$work/synth" --threads 2 --force > /dev/null
  /usr/bin/python3 "$here/make_tree.py" "$work/synth" "$work/tree" --classes checker,disc,grain,mesh,speckle,stripes \
    --train 4,9,14,20,30,40 --test 2 --width 640 --height 448
fi
sets=(--set data.resize=full --set data.imagesize=full --set data.inputsize=full
      --set model.target_embed_dimension=1024 --set model.greedy_ratio=0.001
      --set model.coreset_model_name=softpatch --set data.batch_size=8)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for r in $ranks; do
  out=$work/out-$r
  rm -rf "$out" "$work"/rss-$r-*
  start=$(date +%s.%N)
  mpirun -np "$r" --oversubscribe --bind-to none -x TAILEDCORE_THREADS=1 \
    sh -c "exec /usr/bin/time -f '%M' -o $work/rss-$r-\$OMPI_COMM_WORLD_RANK $tc run -c $root/configs/quickstart.yaml \
           --data $work/tree --out $out --run-id run --pictures 0 --threads 1 ${sets[*]}" > "$work/log-$r.txt" 2>&1
  end=$(date +%s.%N)
  echo "ranks $r: wall $(echo "$end - $start" | bc) s"
  for f in "$work"/rss-$r-*; do echo "  rank ${f##*-}: peak RSS $(( $(cat "$f") / 1024 )) MiB"; done
  grep -E "stage [a-z_]+ done in|greedy: |scores: bank" "$work/log-$r.txt" | grep -E "r0/|^\[tailedcore INFO\]" | sed "s/^/  /" || true
done
# Same results for every rank count.
/usr/bin/python3 - "$work" $ranks <<'PY'
import sys, h5py, numpy as np
work, ranks = sys.argv[1], sys.argv[2:]
run = lambda r: f"{work}/out-{r}/tree/quickstart/run"
a = h5py.File(run(ranks[0]) + "/coreset.h5")
for r in ranks[1:]:
    b = h5py.File(run(r) + "/coreset.h5")
    same = np.array_equal(a["coreset_indices"][:], b["coreset_indices"][:])
    sa, sb = h5py.File(run(ranks[0]) + "/scores.h5"), h5py.File(run(r) + "/scores.h5")
    diff = max(float(np.abs(sa[c]["image_scores"][:] - sb[c]["image_scores"][:]).max()) for c in sa.keys())
    print(f"ranks {r} vs {ranks[0]}: coreset indices equal: {same}; largest image-score difference {diff:.3g}")
import glob
f = glob.glob(f"{work}/out-{ranks[-1]}/tree/features/*/features.h5")[0]
with h5py.File(f) as h:
    d = h["features"]
    print(f"h5py: {f.split('/')[-1]} /features {d.shape} {d.dtype}, virtual: {d.is_virtual},",
          f"{len(d.virtual_sources())} sources, rows 0 and -1 finite: {np.isfinite(d[0]).all() and np.isfinite(d[-1]).all()}")
PY
