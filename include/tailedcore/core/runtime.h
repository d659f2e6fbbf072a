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

/// The most threads a request may name. A fixed bound, not one scaled to the
/// node, so a command line valid on a laptop is valid on a cluster node; it
/// stops a typo (--threads 100000) that would start threads until the
/// process is killed.
constexpr int kMaxThreads = 1024;

/// `n` when 0 <= n <= kMaxThreads (0: auto); else one line naming
/// `what` (an option or variable), the value and the range. Every thread
/// count a user gives (--threads, TAILEDCORE_THREADS) passes here.
int check_thread_count(int n, const std::string& what);

/// Threads a rank should use: TAILEDCORE_THREADS if set, else cores / local ranks (>= 1).
int default_thread_count();

/// The threads a run of ONE rank would use for a request of n (checked): n if n > 0,
/// else TAILEDCORE_THREADS if set, else this node's cores.
int single_rank_thread_count(int n = 0);

/// Sets LibTorch's intra-op threads and OpenMP's to n (checked; 0: default_thread_count()).
/// Returns the count set.
int set_thread_count(int n = 0);

}  // namespace tc::core
