#include "tailedcore/core/runtime.h"

#include <omp.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "tailedcore/core/check.h"

namespace tc::core {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    TC_FAIL("environment variable ", name, "='", v, "' is not an integer");
  }
}

int hardware_threads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return cores > 0 ? cores : 1;
}

}  // namespace

int check_thread_count(int n, const std::string& what) {
  TC_CHECK(n >= 0 && n <= kMaxThreads, what, " ", n,
           " is out of range: expected 0 (auto: cores / local ranks) to ", kMaxThreads,
           " (this node has ", hardware_threads(), " hardware threads)");
  return n;
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

int local_rank_count() {
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    const int n = env_int(name, 0);
    if (n > 0) return n;
  }
  return 1;
}

namespace {

// TAILEDCORE_THREADS under the same range as --threads; 0 when unset.
int env_threads() {
  return check_thread_count(env_int("TAILEDCORE_THREADS", 0),
                            "environment variable TAILEDCORE_THREADS =");
}

}  // namespace

int single_rank_thread_count(int n) {
  if (check_thread_count(n, "--threads") > 0) return n;
  const int forced = env_threads();
  return forced > 0 ? forced : hardware_threads();
}

int default_thread_count() {
  if (env_threads() > 0) return single_rank_thread_count();
  return std::max(1, single_rank_thread_count() / local_rank_count());
}

int set_thread_count(int n) {
  if (check_thread_count(n, "--threads") == 0) n = default_thread_count();
  torch::set_num_threads(n);
  omp_set_num_threads(n);
  return n;
}

}  // namespace tc::core
