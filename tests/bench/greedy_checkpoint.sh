#!/bin/bash
# What the greedy's checkpoints cost (results/bench/greedy_checkpoint.md):
# `tailedcore coreset` on a features file, without checkpoints, with the
# default interval (30 s) and with one every second, on one rank; wall time,
# the greedy's own time, checkpoints written and their size (from the log),
# and that the three banks are the same.
#
#   tests/bench/greedy_checkpoint.sh BUILD_DIR FEATURES_H5 WORK_DIR [RATIO] [THREADS]
#
# e.g. the training features.h5 of tests/bench/scaling_rss.sh's run.
set -euo pipefail
tc=$(realpath "$1")/tailedcore
features=$(realpath "$2")
work=$3
ratio=${4:-0.1}
threads=${5:-2}
mkdir -p "$work"
work=$(realpath "$work")
for mode in none 30 1; do
  rm -f "$work/bank-$mode.h5" "$work"/ck-$mode*
  ck=()
  [ "$mode" != none ] && ck=(--checkpoint "$work/ck-$mode" --greedy_checkpoint_s "$mode")
  start=$(date +%s.%N)
  "$tc" coreset --in "$features" --out "$work/bank-$mode.h5" --greedy_ratio "$ratio" --threads "$threads" "${ck[@]}" \
    > "$work/log-$mode.txt" 2>&1
  end=$(date +%s.%N)
  echo "checkpoints: $mode: wall $(echo "$end - $start" | bc) s"
  grep -E "greedy: [0-9]+ centres" "$work/log-$mode.txt" | sed 's/^/  /'
done
/usr/bin/python3 - "$work" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
a = h5py.File(f"{w}/bank-none.h5")["coreset_indices"][:]
for m in ("30", "1"):
    print(f"banks: checkpoints {m}: same picks as none: {np.array_equal(a, h5py.File(f'{w}/bank-{m}.h5')['coreset_indices'][:])}")
PY
