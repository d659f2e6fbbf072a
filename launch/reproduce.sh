#!/usr/bin/env bash
# The paper's benchmark in one command: every official noisy long-tail variant
# (reference/manifest: MVTec AD and VisA x pareto, step_k1, step_k4 x seeds
# 01-05), PatchCore, SoftPatch and TailedCore on each as one sweep, then the
# mean image and pixel AUROC over the seeds per (dataset, profile, method)
# beside the published 5-seed means.
#
#   launch/reproduce.sh --mvtec DIR --visa DIR --weights W.pt [--ranks N] [--group G]
#       [--profiles "pareto step_k4 step_k1"] [--seeds "01 02 03 04 05"] [--out DIR]
#       [--set key=value]...
#
# --mvtec: the MVTec AD folder (its 15 class folders); --visa: the raw VisA
# folder (converted with reference/visa_split_csv/1cls.csv); either may be left
# out. --weights: WideResNet-50-2 ImageNet weights as TorchScript
# (launch/export_backbone.py wideresnet50 W.pt), as the reference configs use.
# --set overrides a config key of every run (e.g. a smaller test size).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

usage() { sed -n '8,11p' "$0" | sed 's/^# //' >&2; exit 2; }
MVTEC="" VISA="" WEIGHTS="" RANKS=1 GROUP=1 OUT=results/reproduce
PROFILES="pareto step_k4 step_k1" SEEDS="01 02 03 04 05"
SETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mvtec) MVTEC=$2; shift 2 ;;
    --visa) VISA=$2; shift 2 ;;
    --weights) WEIGHTS=$2; shift 2 ;;
    --ranks) RANKS=$2; shift 2 ;;
    --group) GROUP=$2; shift 2 ;;
    --profiles) PROFILES=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --set) SETS+=(--set "$2"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "launch/reproduce.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$MVTEC$VISA" ] || { echo "launch/reproduce.sh: expected --mvtec DIR and/or --visa DIR" >&2; exit 2; }
[ -n "$WEIGHTS" ] || { echo "launch/reproduce.sh: expected --weights W.pt (launch/export_backbone.py)" >&2; exit 2; }
[ -f "$WEIGHTS" ] || { echo "launch/reproduce.sh: --weights $WEIGHTS: no such file" >&2; exit 2; }
for d in "$MVTEC" "$VISA"; do
  [ -z "$d" ] || [ -d "$d" ] || { echo "launch/reproduce.sh: $d: no such folder" >&2; exit 2; }
done

if [ -n "${TAILEDCORE_BIN:-}" ]; then  # an executable already built (the tests)
  TC=$TAILEDCORE_BIN
else
  ./launch/setup.sh
  BUILD_DIR=${BUILD_DIR:-build} ./launch/build.sh --target tailedcore >/dev/null
  TC="$(pwd)/${BUILD_DIR:-build}/tailedcore"
fi
LAUNCH=()
[ "$RANKS" -gt 1 ] && LAUNCH=(mpirun -np "$RANKS" --oversubscribe --bind-to none)
DATA=$OUT/data
mkdir -p "$DATA"

# Every variant, built once (links to the source files), then the three
# methods on them as one sweep per dataset (the reference configs, with the weights).
sweep() {  # DATASET SOURCE TAILEDCORE_CONFIG
  local dataset=$1 source=$2 dirs=()
  for profile in $PROFILES; do
    for seed in $SEEDS; do
      local d=$DATA/$dataset-$profile-seed$seed
      [ -d "$d" ] || "$TC" nlt apply --variant "$dataset/$profile/seed$seed" --source "$source" \
                         --dest "$d" --symlink
      dirs+=("$d")
    done
  done
  echo "$dataset: ${#dirs[@]} variants x 3 methods (log: $OUT/sweep-$dataset.log)"
  "${LAUNCH[@]}" "$TC" sweep -c configs/patchcore.yaml configs/softpatch.yaml "$3" --data "${dirs[@]}" \
      --seeds 0 --group-size "$GROUP" --out "$OUT" --set "model.backbone_weights=$WEIGHTS" "${SETS[@]}" \
      > "$OUT/sweep-$dataset.log" 2>&1 \
    || { echo "sweep failed: see $OUT/sweep-$dataset.log" >&2; tail -5 "$OUT/sweep-$dataset.log" >&2; exit 1; }
}
if [ -n "$MVTEC" ]; then sweep mvtec "$(cd "$MVTEC" && pwd)" configs/tailedcore_mvtec.yaml; fi
if [ -n "$VISA" ]; then
  [ -d "$DATA/visa-mvtec-layout" ] || "$TC" visa convert --source "$VISA" \
      --split-csv reference/visa_split_csv/1cls.csv --dest "$DATA/visa-mvtec-layout" >/dev/null
  sweep visa "$(cd "$DATA/visa-mvtec-layout" && pwd)" configs/tailedcore_visa.yaml
fi

# Mean +- std over the seeds of each (dataset, profile, method), image and
# pixel AUROC, beside the published 5-seed means. Published: the TailedCore
# authors' development logs (noise 0.1; MVTec AD every profile and method, VisA
# step_k4 TailedCore), as quoted in the project's issue tracker; "-" where no
# number is published.
published() {  # DATASET PROFILE METHOD -> "image / pixel"
  case "$1/$2/$3" in
    mvtec/pareto/tailedcore) echo "96.13 / 95.30" ;; mvtec/step_k1/tailedcore) echo "94.44 / 94.00" ;;
    mvtec/step_k4/tailedcore) echo "95.72 / 94.75" ;;
    mvtec/pareto/patchcore) echo "89.08 / 89.73" ;;  mvtec/step_k1/patchcore) echo "79.70 / 83.77" ;;
    mvtec/step_k4/patchcore) echo "83.67 / 85.19" ;;
    mvtec/pareto/softpatch) echo "89.09 / 94.02" ;;  mvtec/step_k1/softpatch) echo "74.96 / 80.16" ;;
    mvtec/step_k4/softpatch) echo "78.90 / 86.17" ;;
    visa/step_k4/tailedcore) echo "89.65 / 96.90" ;;
    *) echo "- / -" ;;
  esac
}
# "mean ± std" of column COL of the files' "mean" rows (their class means), then "(n)" seeds.
seed_stats() {  # COL FILE...
  local col=$1; shift
  awk -F, -v c="$col" '$1=="mean"{s+=$c; q+=$c*$c; n++}
       END{if(n==0){print "missing"; exit}
           sd=(n>1)?sqrt((q-s*s/n)/(n-1)):0; printf "%.2f ± %.2f", s/n, sd}' "$@"
}
table=$OUT/reproduce.md
{
  echo "# Noisy long-tail benchmark: mean AUROC over seeds ($SEEDS)"
  echo
  echo "Ours: mean ± std over the seeds of each run's class-mean AUROC (metrics.csv's"
  echo "\"mean\" row). Published: the authors' 5-seed means (TailedCore development logs,"
  echo "noise 0.1), image / pixel AUROC; \"-\": none published."
  echo
  echo "| dataset | profile | method | seeds | ours image AUROC | ours pixel AUROC | published image / pixel |"
  echo "|---|---|---|---|---|---|---|"
  for dataset in mvtec visa; do
    [ "$dataset" = mvtec ] && [ -z "$MVTEC" ] && continue
    [ "$dataset" = visa ] && [ -z "$VISA" ] && continue
    for profile in $PROFILES; do
      for config in patchcore softpatch tailedcore_$dataset; do
        method=${config%_"$dataset"}
        files=()
        for seed in $SEEDS; do
          f=$OUT/$dataset-$profile-seed$seed/$config/seed0/metrics.csv
          [ -f "$f" ] && files+=("$f")
        done
        if [ ${#files[@]} -eq 0 ]; then image=missing pixel=missing
        else image=$(seed_stats 2 "${files[@]}") pixel=$(seed_stats 3 "${files[@]}"); fi
        echo "| $dataset | $profile | $method | ${#files[@]} | $image | $pixel | $(published "$dataset" "$profile" "$method") |"
      done
    done
  done
} > "$table.tmp" && mv "$table.tmp" "$table"
cat "$table"
