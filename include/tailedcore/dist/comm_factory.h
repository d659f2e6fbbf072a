// Communicators by name (STYLE "factories keyed by the config's own names"):
// one table maps a backend's name to its maker, and choose_backend is the one
// place that decides which backend a run's collectives use.
//
// Built in: "self" (one rank), "mpi" (MPI_COMM_WORLD; MPI initialised by
// init_world), "nccl" (over `bootstrap`, on `cuda_device`; a one-line error in
// a build without CUDA/NCCL). A new backend is one file with a maker and one
// registration line:
//
//   static const bool registered = tc::dist::register_comm("mine", make_mine);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/dist/comm.h"

namespace tc::dist {

/// What a maker may use. Makers that need a field check it and say which.
struct CommRequest {
  Comm* bootstrap = nullptr;  ///< the communicator to build over (NCCL's id travels on it)
  int cuda_device = -1;       ///< the CUDA ordinal this rank computes on; -1: the CPU
};

using CommMaker = std::function<std::unique_ptr<Comm>(const CommRequest&)>;

/// Adds `name` to the table; returns true, so a registration is one line at
/// namespace scope. Throws tc::Error when the name is taken.
bool register_comm(const std::string& name, CommMaker maker);

/// Every registered name, sorted.
std::vector<std::string> comm_names();

/// The backend `name`, built for `request`. An unknown name throws one line
/// listing the known ones.
std::unique_ptr<Comm> make_comm(const std::string& name, const CommRequest& request = {});

/// What choose_backend decides from (tests pass their own).
struct BackendFacts {
  bool launched_by_mpi = false;  ///< started by mpirun/srun (world.h)
  int world_size = 1;            ///< ranks in the world; 1 before MPI is up
  bool ranks_on_gpu = false;     ///< every rank resolved its device to a GPU
  bool built_with_nccl = false;  ///< this build has CUDA + NCCL
};

/// The backend of a run's collectives: "nccl" when several ranks compute on
/// GPUs and NCCL is built, else "mpi" under a launcher, else "self".
std::string choose_backend(const BackendFacts& facts);

}  // namespace tc::dist
