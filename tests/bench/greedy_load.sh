#!/bin/bash
# `tailedcore coreset` on a 21,168 x 128 bank (ratio 0.1, no projection) with
# --threads 1 and 2, idle and while `yes` pinned to CPU 0 keeps one core busy
# (issue 10: 2.05 s with 1 thread, 14.2 s with 2 under load). Each case REPS
# times, alternating 1 and 2 threads; prints one line per run.
#   tests/bench/greedy_load.sh [BUILD_DIR] [REPS]
set -euo pipefail
build=${1:-build}
reps=${2:-3}
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
run() {  # condition threads
  local t0 t1
  t0=$(date +%s.%N)
  "$build/tailedcore" coreset --in "$work/features.h5" --out "$work/coreset.h5" --ratio 0.1 --proj-dim 0 \
    --start-index 0 --threads "$2" > /dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$1 threads=$2 $(echo "$t1 - $t0" | bc) s load=$(cut -d' ' -f1 /proc/loadavg)"
}
for condition in idle loaded; do
  if [ "$condition" = loaded ]; then taskset -c 0 yes > /dev/null & busy=$!; sleep 0.5; fi
  for r in $(seq "$reps"); do run "$condition" 1; run "$condition" 2; done
  if [ -n "${busy:-}" ]; then kill "$busy"; busy=; fi
done
