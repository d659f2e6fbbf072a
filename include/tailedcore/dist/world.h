// The job's world communicator and its failure policy.
//
// init_world: under a launcher (mpirun, srun: PMI/PMIx/Open MPI environment)
// MPI is initialised and the world is an MpiComm; a process started alone
// gets SelfComm without touching MPI. MPI is finalised at exit.
// run_guarded: any exception on any rank ends the whole job promptly with
// that rank's one-line message and exit code 1 (MPI_Abort), instead of the
// other ranks hanging in their next collective.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/dist/comm.h"

namespace tc::dist {

/// Idempotent: later calls return the same world. argc/argv may be null.
std::shared_ptr<Comm> init_world(int* argc, char*** argv);

/// True when this process was started by an MPI launcher.
bool launched_by_mpi();

/// The communicator a run's collectives use once its device is known
/// (model.device, device/device.h): the backend choose_backend names
/// (comm_factory.h), bootstrapped over `world`, when it is not the world's
/// own; nullptr otherwise (use `world`). Collective over world: ranks that
/// disagree (some on a GPU, some on the CPU), and two ranks of one host on
/// one GPU (gpu_sharing), throw one line on every rank, before NCCL starts.
/// Keep `world` for run_guarded: aborting goes through MPI.
std::unique_ptr<Comm> make_device_comm(Comm& world, int cuda_device);

/// Where one rank runs: its host, the CUDA ordinal it computes on (-1: the
/// CPU) and the GPUs its process sees.
struct RankPlace {
  std::string host;
  int cuda_device = -1;
  int visible_gpus = 0;
};

/// "" when no two ranks of a host compute on the same GPU; else one line
/// naming the host, its ranks, its GPUs and the ranks that share one.
std::string gpu_sharing(const std::vector<RankPlace>& places);

/// Runs body; on an exception, comm.abort(message) (never returns then).
int run_guarded(Comm& comm, const std::function<int()>& body);

}  // namespace tc::dist
