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

#include "tailedcore/dist/comm.h"

namespace tc::dist {

/// Idempotent: later calls return the same world. argc/argv may be null.
std::shared_ptr<Comm> init_world(int* argc, char*** argv);

/// True when this process was started by an MPI launcher.
bool launched_by_mpi();

/// The communicator a run's collectives use once its device is known
/// (model.device, exp/device.h): an NcclComm bootstrapped over `world` when
/// this rank computes on CUDA device `cuda_device` (>= 0), the world has more
/// than one rank and this build has NCCL; nullptr otherwise (use `world`).
/// Collective over world: ranks that disagree (some on a GPU, some on the
/// CPU) all throw one line naming the counts. Keep `world` for run_guarded:
/// aborting goes through MPI.
std::unique_ptr<Comm> make_device_comm(Comm& world, int cuda_device);

/// Runs body; on an exception, comm.abort(message) (never returns then).
int run_guarded(Comm& comm, const std::function<int()>& body);

}  // namespace tc::dist
