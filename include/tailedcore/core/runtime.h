// Process-wide runtime settings: seeding and thread counts.
#pragma once

#include <cstdint>
#include <string>

namespace tc::core {

/// Seeds LibTorch's global generator (CPU and, where present, CUDA). Every
/// random draw of the library goes through generators derived from a seed, so
/// the same seed gives the same result whatever the rank count.
void seed_everything(uint64_t seed);

/// Ranks on this node, read from the launcher's environment
/// (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS, SLURM_NTASKS_PER_NODE); 1 if none.
int local_rank_count();

/// This machine's host name (for error messages, the rank map and temporary
/// file names); "localhost" when the system has none.
std::string host_name();

/// Threads a rank should use: TAILEDCORE_THREADS if set, else cores / local ranks (>= 1).
int default_thread_count();

/// The threads a run of ONE rank would use for a request of n: n if n > 0,
/// else TAILEDCORE_THREADS if set, else this node's cores.
int single_rank_thread_count(int n = 0);

/// Sets LibTorch's intra-op threads and OpenMP's to n (n <= 0: default_thread_count()).
/// Returns the count set.
int set_thread_count(int n = 0);

}  // namespace tc::core
