#!/bin/bash
# The two stages that ran slower with 2 threads than with 1 while another
# process held a core (issue 10): `tailedcore coreset` on a 21,168 x 128 bank
# (ratio 0.1, no projection; 2.05 s with 1 thread, 14.2 s with 2 under load)
# and `tailedcore extract` (the backbone) on 27 synthetic 256 px images at 112 px, each with
# --threads 1 and 2, idle and while `yes` pinned to CPU 0 keeps one core busy.
# REPS runs per case, alternating 1 and 2 threads; one line per run.
#   tests/bench/threads_under_load.sh [BUILD_DIR] [REPS] [WEIGHTS.pt]
# Without WEIGHTS the extract case uses random weights (the same cost).
set -euo pipefail
build=${1:-build}
reps=${2:-3}
weights=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${busy:-}" ] && kill "$busy" 2>/dev/null || true' EXIT
/usr/bin/python3 - "$work/features.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(0)
centres = rng.random((500, 128), dtype=np.float32) * 2
x = np.maximum(centres[rng.integers(0, 500, 21168)] + 0.3 * rng.standard_normal((21168, 128), dtype=np.float32), 0)
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = x.astype(np.float32)
    f.attrs["stage"] = "features"
    f.attrs["config_hash"] = "bench"
    f.attrs["tailedcore_version"] = "bench"
PY
"$build/tailedcore" synth --layout small --seed 0 --size 256 --dest "$work/synth" > /dev/null
/usr/bin/python3 "$(dirname "$0")/make_tree.py" "$work/synth" "$work/tree" --classes disc,grain,stripes --train 9 \
  --test 8 --width 256 --height 256 > /dev/null  # 27 training images, as in the issue
extract_set=(--set data.resize=128 --set data.imagesize=112 --set data.inputsize=112)
[ -n "$weights" ] && extract_set+=(--backbone-weights "$weights")
run() {  # stage condition threads
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$1" = coreset ]; then
    "$build/tailedcore" coreset --in "$work/features.h5" --out "$work/coreset.h5" --greedy_ratio 0.1 --greedy_proj_dim 0 \
      --start-index 0 --threads "$3" > /dev/null 2>&1
  else
    rm -f "$work/extract.h5"
    "$build/tailedcore" extract --data "$work/tree" -c configs/patchcore.yaml --out "$work/extract.h5" \
      "${extract_set[@]}" --threads "$3" > /dev/null 2>&1
  fi
  t1=$(date +%s.%N)
  echo "$1 $2 threads=$3 $(echo "$t1 - $t0" | bc) s load=$(cut -d' ' -f1 /proc/loadavg)"
}
for stage in coreset extract; do
  for condition in idle loaded; do
    if [ "$condition" = loaded ]; then taskset -c 0 yes > /dev/null & busy=$!; sleep 0.5; fi
    for r in $(seq "$reps"); do run $stage "$condition" 1; run $stage "$condition" 2; done
    if [ -n "${busy:-}" ]; then kill "$busy"; busy=; fi
  done
done
