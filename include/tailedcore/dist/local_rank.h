// This process's rank on its node, and the GPU that rank takes, read from the
// launcher's environment (cluster/README.md "Ranks, threads and devices").
//
// Launchers export the node-local rank under their own names; these are read
// in this order and the first one set (non-empty) wins:
//   OMPI_COMM_WORLD_LOCAL_RANK   Open MPI's mpirun
//   SLURM_LOCALID                Slurm's srun
//   MPI_LOCALRANKID              MPICH / Intel MPI (Hydra)
//   PMI_LOCAL_RANK               PMI / PMIx launchers
// One rank per GPU: rank r on a node takes device r % visible_devices, where
// visible_devices counts what CUDA_VISIBLE_DEVICES leaves visible (Slurm's
// --gpus-per-task=1 leaves one, so every rank takes its device 0).
#pragma once

#include <string>

namespace tc::dist {

struct LocalRank {
  int rank = -1;         ///< rank on this node; -1 when no launcher variable is set
  std::string variable;  ///< the variable it was read from; empty when none
};

/// The launcher's local rank and where it came from. A variable that is set
/// but is not a non-negative integer throws tc::Error naming it, its value and
/// what was expected.
LocalRank local_rank_from_env();

/// local_rank_from_env().rank: this process's rank on its node, -1 if no launcher set one.
int launcher_local_rank();

/// The CUDA ordinal a rank takes: local_rank % visible_devices; a process
/// without a launcher (local_rank -1) takes device 0. -1 when visible_devices
/// is 0 (no GPU). Throws tc::Error for local_rank < -1 or visible_devices < 0.
int device_for_local_rank(int local_rank, int visible_devices);

/// device_for_local_rank(launcher_local_rank(), cuda_device_count()): this
/// rank's GPU, -1 without one (or in a build without CUDA).
int this_rank_device();

}  // namespace tc::dist
