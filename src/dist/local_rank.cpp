#include "tailedcore/dist/local_rank.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/nccl_comm.h"

namespace tc::dist {
namespace {

// The launchers' names for the node-local rank, in the order they are read (local_rank.h).
constexpr const char* kLocalRankVariables[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                                               "MPI_LOCALRANKID", "PMI_LOCAL_RANK"};

int parse_rank(const char* name, const char* value) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value, &end, 10);
  const bool ok = end != value && *end == '\0' && errno == 0 && v >= 0 && v <= INT_MAX;
  TC_CHECK(ok, "environment variable ", name, "='", value,
           "' is not a local rank: expected a non-negative integer");
  return static_cast<int>(v);
}

}  // namespace

LocalRank local_rank_from_env() {
  for (const char* name : kLocalRankVariables) {
    const char* value = std::getenv(name);
    if (value && *value) return {parse_rank(name, value), name};
  }
  return {};
}

int launcher_local_rank() { return local_rank_from_env().rank; }

int device_for_local_rank(int local_rank, int visible_devices) {
  TC_CHECK(local_rank >= -1, "local rank ", local_rank,
           " is invalid: expected -1 (no launcher) or a rank >= 0");
  TC_CHECK(visible_devices >= 0, "visible CUDA devices = ", visible_devices,
           ": expected a count >= 0");
  if (visible_devices == 0) return -1;
  return local_rank < 0 ? 0 : local_rank % visible_devices;
}

int this_rank_device() { return device_for_local_rank(launcher_local_rank(), cuda_device_count()); }

}  // namespace tc::dist
