#!/usr/bin/env bash
# One rank per GPU with Open MPI's mpirun: cluster/bind_gpu.sh gives each rank the GPU of its
# local rank (OMPI_COMM_WORLD_LOCAL_RANK % GPUs on the node).
#
#   cluster/mpirun_gpu.sh -c configs/tailedcore_mvtec.yaml --data data/mvtecad-pareto-seed01
# Environment: NODES (1), GPUS_PER_NODE (nvidia-smi's count here), HOSTFILE (an Open MPI
# hostfile, cluster/hostfile.example, for NODES > 1), THREADS (cores / GPUS_PER_NODE),
# BIN (./build-cuda/tailedcore).
set -euo pipefail
cd "$(dirname "$0")/.."
GPUS_PER_NODE=${GPUS_PER_NODE:-$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)}
[ "${GPUS_PER_NODE:-0}" -gt 0 ] || { echo "cluster/mpirun_gpu.sh: no GPU found by nvidia-smi; expected GPUS_PER_NODE=N or a GPU node" >&2; exit 2; }
NODES=${NODES:-1}
THREADS=${THREADS:-$(( $(nproc) / GPUS_PER_NODE > 0 ? $(nproc) / GPUS_PER_NODE : 1 ))}
source cluster/use_build.sh   # BIN: the CUDA build, named in the log
hosts=()
[ -n "${HOSTFILE:-}" ] && hosts=(--hostfile "$HOSTFILE")
exec mpirun -np $(( NODES * GPUS_PER_NODE )) "${hosts[@]}" --map-by "ppr:${GPUS_PER_NODE}:node" --bind-to none \
  -x OMP_NUM_THREADS="$THREADS" -x TAILEDCORE_THREADS="$THREADS" -x NCCL_DEBUG="${NCCL_DEBUG:-WARN}" \
  cluster/bind_gpu.sh "$BIN" run "$@"
