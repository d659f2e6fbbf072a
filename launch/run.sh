#!/usr/bin/env bash
# The main job: set-up and build if needed, the default synthetic noisy
# long-tail data set, PatchCore, SoftPatch and TailedCore on it, then a table of
# mean image / pixel AUROC per method and a Markdown report.
#
# Defaults (README "Main job"): `synth --layout small` made long-tailed with
# `nlt make --profile pareto --noise-ratio 0.1`, configs/quickstart.yaml
# (ResNet-18, 128 -> 112 crop). Override with DATA_SOURCE=DIR (an MVTec-format
# tree) or CONFIG=FILE; RANKS=N runs every stage over N MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

./launch/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR=$BUILD_DIR ./launch/build.sh --target tailedcore >/dev/null
TC="$BUILD_DIR/tailedcore"

CONFIG=${CONFIG:-configs/quickstart.yaml}
SEED=${SEED:-1}
OUT=${OUT:-results/main}
RANKS=${RANKS:-1}
LAUNCH=()
if [ "$RANKS" -gt 1 ]; then LAUNCH=(mpirun -np "$RANKS" --oversubscribe --bind-to none); fi

start=$(date +%s)
if [ -z "${DATA_SOURCE:-}" ]; then
  DATA_SOURCE=data/synth-small
  [ -d "$DATA_SOURCE" ] || "$TC" synth --dest "$DATA_SOURCE" --layout small --seed 0
fi
DATA=${DATA:-data/$(basename "$DATA_SOURCE")-pareto-nr0.1-seed$SEED}
[ -d "$DATA" ] || "$TC" nlt make --source "$DATA_SOURCE" --dest "$DATA" --profile pareto \
                      --noise-ratio 0.1 --seed "$SEED"
echo "data: $DATA (prepared in $(( $(date +%s) - start )) s)"

for method in patchcore softpatch tailedcore; do
  t0=$(date +%s)
  "${LAUNCH[@]}" "$TC" run -c "$CONFIG" --data "$DATA" --out "$OUT" --run-id "$method" \
      --set "model.coreset_model_name=$method" > "$OUT.$method.log" 2>&1 \
    || { echo "$method failed: see $OUT.$method.log" >&2; tail -5 "$OUT.$method.log" >&2; exit 1; }
  echo "$method: $(( $(date +%s) - t0 )) s"
done

dataset=$(basename "$DATA")
config=$(basename "$CONFIG" .yaml)
report="$OUT/report.md"
{
  echo "# Main job: PatchCore vs SoftPatch vs TailedCore"
  echo
  echo "Data: \`$DATA\`; config: \`$CONFIG\`; ranks: $RANKS."
  echo
  echo "| method | image AUROC | pixel AUROC |"
  echo "|---|---|---|"
  for method in patchcore softpatch tailedcore; do
    awk -F, -v m="$method" '$1=="mean"{printf "| %s | %.2f | %.2f |\n", m, $2, $3}' \
        "$OUT/$dataset/$config/$method/metrics.csv"
  done
  for method in patchcore softpatch tailedcore; do
    echo
    sed 's/^# /## /' "$OUT/$dataset/$config/$method/report.md" \
      | sed "s#(pictures/#($dataset/$config/$method/pictures/#g"
  done
} > "$report.tmp" && mv "$report.tmp" "$report"

printf "\n%-12s %12s %12s\n" method "image AUROC" "pixel AUROC"
for method in patchcore softpatch tailedcore; do
  awk -F, -v m="$method" '$1=="mean"{printf "%-12s %12.2f %12.2f\n", m, $2, $3}' \
      "$OUT/$dataset/$config/$method/metrics.csv"
done
echo
echo "report: $report   (total $(( $(date +%s) - start )) s)"
