#!/usr/bin/env bash
# The main job: set-up and build if needed, a benchmark-shaped noisy long-tail
# data set, PatchCore, SoftPatch and TailedCore on it with the ImageNet
# EfficientNet-Lite0, then a table of mean image / pixel AUROC per method and a
# report with per-class tables, charts and anomaly maps.
#
# Defaults (README "The main job"): `synth --layout mvtec --size $SYNTH_SIZE`
# (the 15 MVTec AD classes with their image counts) made noisy long-tailed by
# the official manifests `nlt apply --variant mvtec/pareto/seed01` (811
# training images, 74 of them injected defects), configs/quickstart.yaml.
# Override with DATA_SOURCE=DIR (an MVTec-format tree; VARIANT=NAME picks the
# official manifests, VARIANT=none uses it as it is) or CONFIG=FILE; RANKS=N
# runs every stage over N MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

./launch/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR=$BUILD_DIR ./launch/build.sh --target tailedcore >/dev/null
TC="$BUILD_DIR/tailedcore"

CONFIG=${CONFIG:-configs/quickstart.yaml}
OUT=${OUT:-results/main}
RANKS=${RANKS:-1}
VARIANT=${VARIANT:-mvtec/pareto/seed01}
SYNTH_SIZE=${SYNTH_SIZE:-128}
LAUNCH=()
if [ "$RANKS" -gt 1 ]; then LAUNCH=(mpirun -np "$RANKS" --oversubscribe --bind-to none); fi

mkdir -p "$OUT"
start=$(date +%s)
if [ -z "${DATA_SOURCE:-}" ]; then
  DATA_SOURCE=data/synth-mvtec-$SYNTH_SIZE
  [ -d "$DATA_SOURCE" ] || "$TC" synth --dest "$DATA_SOURCE" --layout mvtec --size "$SYNTH_SIZE" --seed 0
fi
if [ "$VARIANT" = none ]; then
  DATA=$DATA_SOURCE
else
  DATA=${DATA:-data/$(basename "$DATA_SOURCE")-${VARIANT//\//-}}
  [ -d "$DATA" ] || "$TC" nlt apply --variant "$VARIANT" --source "$DATA_SOURCE" --dest "$DATA" --symlink
fi
echo "data: $DATA (prepared in $(( $(date +%s) - start )) s)"

methods=(patchcore softpatch tailedcore)
for method in "${methods[@]}"; do
  t0=$(date +%s)
  "${LAUNCH[@]}" "$TC" run -c "$CONFIG" --data "$DATA" --out "$OUT" --run-id "$method" \
      --set "model.coreset_model_name=$method" > "$OUT.$method.log" 2>&1 \
    || { echo "$method failed: see $OUT.$method.log" >&2; tail -5 "$OUT.$method.log" >&2; exit 1; }
  echo "$method: $(( $(date +%s) - t0 )) s"
done

dataset=$(basename "$DATA")
config=$(basename "$CONFIG" .yaml)
runs=()
for method in "${methods[@]}"; do runs+=("$OUT/$dataset/$config/$method"); done
"$TC" compare --run "${runs[@]}" --data "$DATA" --out "$OUT" >/dev/null
report="$OUT/report.md"
{
  echo "# Main job: PatchCore vs SoftPatch vs TailedCore"
  echo
  echo "Data: \`$DATA\`; config: \`$CONFIG\`; ranks: $RANKS."
  echo
  sed '1d' "$OUT/comparison.md"
  for method in "${methods[@]}"; do
    echo
    sed 's/^# /## /' "$OUT/$dataset/$config/$method/report.md" \
      | sed "s#(pictures/#($dataset/$config/$method/pictures/#g"
  done
} > "$report.tmp" && mv "$report.tmp" "$report"

printf "\n%-12s %12s %12s\n" method "image AUROC" "pixel AUROC"
for method in "${methods[@]}"; do
  awk -F, -v m="$method" '$1=="mean"{printf "%-12s %12.2f %12.2f\n", m, $2, $3}' \
      "$OUT/$dataset/$config/$method/metrics.csv"
done
grep -h "^Tail selection" "$OUT/$dataset/$config/tailedcore/report.md" || true
echo
echo "report: $report   (total $(( $(date +%s) - start )) s)"
