#!/bin/bash
# Per-rank memory and bytes read of PatchCore, SoftPatch and TailedCore at 1,
# 2 and 3 ranks on a non-square synthetic tree at native resolution whose
# 1024-d training rows dominate memory (results/bench/scaling_rss.md): peak
# RSS and bytes read (/proc/self/io rchar) of every rank, per stage and in
# all (the run log's "stage X done ... (read N MiB; peak RSS so far M MiB)"
# and "run done" lines with TAILEDCORE_LOG_ALL_RANKS=1), and a check that
# every rank count gives the same coresets and scores.
#
#   tests/bench/scaling_rss.sh BUILD_DIR WORK_DIR [RANKS...]   (default ranks: 1 2 3)
#
# Environment: WIDTH, HEIGHT (448 x 320), TRAIN (per class, 30,24,6: the last
# class is the tail), RATIO (greedy ratio of every method, 0.1).
# Per rank count the three methods share one output folder, so the features
# and test features are extracted once (by PatchCore, the first) and read by
# the others, as a researcher's runs over one data set do.
set -euo pipefail
build=$(realpath "$1")
work=$2
shift 2
ranks=${*:-1 2 3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tc=$build/tailedcore
width=${WIDTH:-448} height=${HEIGHT:-320} train=${TRAIN:-30,24,6} ratio=${RATIO:-0.1}
mkdir -p "$work"
work=$(realpath "$work")
if [ ! -d "$work/tree" ]; then
  "$tc" synth --layout small --dest "$work/synth" --threads 2 --force > /dev/null
  /usr/bin/python3 "$here/make_tree.py" "$work/synth" "$work/tree" --classes checker,disc,stripes \
    --train "$train" --test 2 --width "$width" --height "$height"
fi
sets=(--set data.resize=full --set data.imagesize=full --set data.inputsize=full
      --set model.target_embed_dimension=1024 --set model.greedy_ratio=$ratio --set data.batch_size=8
      --set model.tail_data_augment_type=rot45flip)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for r in $ranks; do
  out=$work/out-$r
  rm -rf "$out"
  for m in patchcore softpatch tailedcore; do
    start=$(date +%s.%N)
    mpirun -np "$r" --oversubscribe --bind-to none -x TAILEDCORE_THREADS=1 -x TAILEDCORE_LOG_ALL_RANKS=1 \
      "$tc" run -c "$root/configs/quickstart.yaml" --data "$work/tree" --out "$out" --run-id "$m" --pictures 0 \
      --threads 1 "${sets[@]}" --set model.coreset_model_name=$m > "$work/log-$r-$m.txt" 2>&1
    end=$(date +%s.%N)
    echo "ranks $r $m: wall $(echo "$end - $start" | bc) s"
    grep -E "stage [a-z_]+ done in|run done|greedy: [0-9]+ centres|scores: bank" "$work/log-$r-$m.txt" \
      | sed -E 's/^\[tailedcore (r[0-9]+)\/[0-9]+ INFO\]/  \1/' || true
  done
done
# Same results for every rank count.
/usr/bin/python3 - "$work" $ranks <<'PY'
import sys, h5py, numpy as np
work, ranks = sys.argv[1], sys.argv[2:]
run = lambda r, m: f"{work}/out-{r}/tree/quickstart/{m}"
for m in ("patchcore", "softpatch", "tailedcore"):
    a = h5py.File(run(ranks[0], m) + "/coreset.h5")
    for r in ranks[1:]:
        b = h5py.File(run(r, m) + "/coreset.h5")
        same = np.array_equal(a["coreset_indices"][:], b["coreset_indices"][:])
        sa, sb = h5py.File(run(ranks[0], m) + "/scores.h5"), h5py.File(run(r, m) + "/scores.h5")
        diff = max(float(np.abs(sa[c]["image_scores"][:] - sb[c]["image_scores"][:]).max()) for c in sa.keys())
        print(f"{m}: ranks {r} vs {ranks[0]}: coreset indices equal: {same}; largest image-score difference {diff:.3g}")
PY
