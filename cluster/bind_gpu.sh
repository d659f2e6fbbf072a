#!/usr/bin/env bash
# One rank per GPU: run a command with CUDA_VISIBLE_DEVICES narrowed to this rank's GPU,
# chosen from its local rank on the node (the same rule as tc::dist::local_rank.h):
#   local rank from OMPI_COMM_WORLD_LOCAL_RANK (Open MPI), SLURM_LOCALID (srun),
#   MPI_LOCALRANKID (MPICH/Hydra) or PMI_LOCAL_RANK, the first set;
#   GPU = the (local rank % n)-th of the n devices visible now (CUDA_VISIBLE_DEVICES if
#   set, else every device nvidia-smi lists).
#
#   mpirun -np 8 --map-by ppr:4:node --bind-to none cluster/bind_gpu.sh ./build-cuda/tailedcore run ...
#   srun --ntasks-per-node=4 --gpus-per-node=4 cluster/bind_gpu.sh ./build-cuda/tailedcore run ...
# (srun --gpus-per-task=1 already gives each task one GPU; the wrapper then changes nothing.)
# BIND_GPU_VERBOSE=1 prints "host rank local -> GPU" to stderr.
set -euo pipefail
[ $# -gt 0 ] || { echo "cluster/bind_gpu.sh: no command given; expected: bind_gpu.sh PROGRAM [ARGS...]" >&2; exit 2; }

local_rank=""
for v in OMPI_COMM_WORLD_LOCAL_RANK SLURM_LOCALID MPI_LOCALRANKID PMI_LOCAL_RANK; do
  if [ -n "${!v:-}" ]; then
    case ${!v} in
      *[!0-9]*) echo "cluster/bind_gpu.sh: $v='${!v}' is not a local rank; expected a non-negative integer" >&2; exit 2 ;;
    esac
    local_rank=${!v}; from=$v; break
  fi
done
if [ -z "$local_rank" ]; then exec "$@"; fi   # not started by a launcher: leave the devices alone

if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then
  IFS=, read -r -a devices <<<"$CUDA_VISIBLE_DEVICES"
else
  mapfile -t devices < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ')
fi
if [ ${#devices[@]} -eq 0 ] || [ -z "${devices[0]}" ]; then
  echo "cluster/bind_gpu.sh: no GPU visible on $(hostname) ($from=$local_rank); running on the CPU" >&2
  exec "$@"
fi
export CUDA_VISIBLE_DEVICES=${devices[$(( local_rank % ${#devices[@]} ))]}
[ "${BIND_GPU_VERBOSE:-0}" = 1 ] && echo "$(hostname) $from=$local_rank -> GPU $CUDA_VISIBLE_DEVICES" >&2
exec "$@"
