#!/bin/bash
# Rows a greedy step visits on realistic banks (results/bench/greedy_visits.md):
# EfficientNet-Lite0 (ImageNet) features of the MVTec-shaped synthetic tree at
# 224 px (784 rows an image), long-tailed by the official manifests:
# mvtec/pareto/seed02 (659 images, 516,656 rows) at ratio 0.05 and
# mvtec/step_k4/seed01 (1,624 images, 1,273,216 rows) at ratio 0.1.
# Per bank: bench_greedy_visits (read bandwidth, the plain pass, the cell
# stepper's visits against the step index, the official loop's first steps
# when OFFICIAL_SRC names a folder holding the official src/), then
# `tailedcore coreset` at 1, 2 and 3 ranks, whose picks must equal the
# bench's; with OLD_BUILD, today's loop (that build's `tailedcore coreset`)
# on the first bank, timed and compared.
#
#   tests/bench/greedy_visits.sh BUILD_DIR WORK_DIR
#   env: OLD_BUILD (a build of the previous stepper), OFFICIAL_SRC, THREADS (2),
#        BANKS ("p02 k4")
set -euo pipefail
build=$(realpath "$1")
mkdir -p "$2"
work=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tc=$build/tailedcore
threads=${THREADS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -d "$work/synth" ] || "$tc" synth --layout mvtec --size 224 --dest "$work/synth" --threads "$threads" > /dev/null
declare -A variant=([p02]=mvtec/pareto/seed02 [k4]=mvtec/step_k4/seed01)
declare -A ratio=([p02]=0.05 [k4]=0.1)
for bank in ${BANKS:-p02 k4}; do
  feats=$work/lite0_$bank.h5
  if [ ! -f "$feats" ]; then
    "$tc" nlt apply --source "$work/synth" --dest "$work/$bank" --variant "${variant[$bank]}" --symlink --force > /dev/null
    "$tc" extract --data "$work/$bank" -c "$root/configs/quickstart.yaml" --out "$feats" --split train \
      --set data.resize=224 --set data.imagesize=224 --set data.inputsize=224 --threads "$threads" > /dev/null
  fi
  r=${ratio[$bank]}
  echo "== $bank: ratio $r"
  official=()
  [ -n "${OFFICIAL_SRC:-}" ] && [ "$bank" = p02 ] && official=(--official-src "$OFFICIAL_SRC" --official-steps 100)
  "$build/tests/bench_greedy_visits" --features "$feats" --ratio "$r" --threads "$threads" --plain-steps 50 \
    --curve "$work/curve_$bank.csv" --picks "$work/picks_$bank.bin" "${official[@]}"
  for np in 1 2 3; do
    out=$work/coreset_${bank}_np$np.h5
    rm -f "$out"
    start=$(date +%s.%N)
    mpirun -np "$np" --oversubscribe --bind-to none "$tc" coreset --in "$feats" --out "$out" --greedy_ratio "$r" \
      --threads $(( np == 1 ? threads : 1 )) > "$work/log_${bank}_np$np.txt" 2>&1
    end=$(date +%s.%N)
    echo "tailedcore coreset, $np ranks: wall $(echo "$end - $start" | bc) s"
    grep -E "greedy: [0-9]+ centres" "$work/log_${bank}_np$np.txt" | sed 's/^/  /'
  done
  if [ -n "${OLD_BUILD:-}" ] && [ "$bank" = p02 ]; then
    start=$(date +%s.%N)
    "$OLD_BUILD/tailedcore" coreset --in "$feats" --out "$work/coreset_${bank}_old.h5" --ratio "$r" \
      --threads "$threads" > "$work/log_${bank}_old.txt" 2>&1
    end=$(date +%s.%N)
    echo "today's loop ($OLD_BUILD): wall $(echo "$end - $start" | bc) s"
    grep -E "greedy: [0-9]+ centres" "$work/log_${bank}_old.txt" | sed 's/^/  /'
  fi
  /usr/bin/python3 - "$work" "$bank" <<'PY'
import os, sys, h5py, numpy as np
work, bank = sys.argv[1:]
want = np.fromfile(f"{work}/picks_{bank}.bin", dtype=np.int64)
for name in ("np1", "np2", "np3", "old"):
    path = f"{work}/coreset_{bank}_{name}.h5"
    if not os.path.exists(path):
        continue
    f = h5py.File(path)
    got = f["coreset_indices"][:]
    visits = f.attrs.get("greedy_rows_visited_per_step")
    print(f"{bank} {name}: picks equal to the bench's: {np.array_equal(got, want)}"
          + (f"; coreset.h5 greedy_rows_visited_per_step {visits:.0f} of {f.attrs['greedy_rows']}" if visits is not None else ""))
PY
done
