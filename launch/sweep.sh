#!/usr/bin/env bash
# A seed sweep over noisy long-tail variants, summarised as mean ± std.
#
# Default (synthetic stand-ins, minutes on 2 cores): the small synthetic data
# set made long-tailed with `nlt make --profile pareto` for VARIANTS seeds,
# each run with SEEDS model seeds, configs/quickstart.yaml.
# Official variants: MANIFESTS=DIR/mvtecad-nlt/pareto DATA_SOURCE=<MVTec AD or
#   `tailedcore synth --layout mvtec` tree> applies seed01..05 of the official
#   manifests instead. RANKS=N GROUP=G runs N MPI ranks in groups of G.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
./launch/setup.sh
BUILD_DIR=${BUILD_DIR:-build} ./launch/build.sh --target tailedcore >/dev/null
TC="${BUILD_DIR:-build}/tailedcore"
CONFIG=${CONFIG:-configs/quickstart.yaml}
SEEDS=${SEEDS:-0-2}
VARIANTS=${VARIANTS:-3}
RANKS=${RANKS:-1}
GROUP=${GROUP:-1}
OUT=${OUT:-results/sweep-main}
LAUNCH=()
[ "$RANKS" -gt 1 ] && LAUNCH=(mpirun -np "$RANKS" --oversubscribe --bind-to none)

dirs=()
if [ -n "${MANIFESTS:-}" ]; then
  : "${DATA_SOURCE:?MANIFESTS needs DATA_SOURCE (an MVTec-layout tree)}"
  for s in 01 02 03 04 05; do
    d=data/$(basename "$DATA_SOURCE")-pareto-seed$s
    [ -d "$d" ] || "$TC" nlt apply --source "$DATA_SOURCE" --dest "$d" --symlink \
        --prune-manifest "$MANIFESTS/seed$s/prune_good.txt" --noisy-manifest "$MANIFESTS/seed$s/inject_defects.txt"
    dirs+=("$d")
  done
else
  src=${DATA_SOURCE:-data/synth-small}
  [ -d "$src" ] || "$TC" synth --dest "$src" --layout small --seed 0
  for s in $(seq 1 "$VARIANTS"); do
    d=data/$(basename "$src")-pareto-nr0.1-seed$s
    [ -d "$d" ] || "$TC" nlt make --source "$src" --dest "$d" --profile pareto --noise-ratio 0.1 --seed "$s" >/dev/null
    dirs+=("$d")
  done
fi
# Each sweep plan has its own summary folder (<out>/sweep/<digest>/); the sweep prints its path.
mkdir -p "$OUT"
"${LAUNCH[@]}" "$TC" sweep -c "$CONFIG" --data "${dirs[@]}" --seeds "$SEEDS" --group-size "$GROUP" --out "$OUT" \
  | tee "$OUT/sweep.out"
cat "$(sed -n 's/^summary: //p' "$OUT/sweep.out" | tail -n 1)"
