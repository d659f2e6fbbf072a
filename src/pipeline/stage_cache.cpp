#include "tailedcore/pipeline/stage_cache.h"

#include <torch/torch.h>

#include "tailedcore/core/log.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"

namespace tc::pipeline {

StageCache::StageCache(std::filesystem::path dir, std::string config_hash)
    : dir_(std::move(dir)), hash_(std::move(config_hash)) {}

std::filesystem::path StageCache::path(const std::string& stage) const {
  return dir_ / (stage + ".h5");
}

bool StageCache::done(const std::string& stage, dist::Comm& comm) const {
  const auto p = path(stage);
  int64_t ok = 0;
  if (std::filesystem::exists(p)) {
    try {
      io::H5Reader r(p);
      if (r.has_attr("config_hash") && r.attr_string("config_hash") == hash_) {
        // The integrity rule (shards there, in place, made with this key),
        // then this rank's share read through: a file damaged in the middle
        // (it still opens) is recomputed here rather than failing, or lying,
        // when loaded.
        io::verify_share(p, comm.rank(), comm.size());
        ok = 1;
      } else if (comm.rank() == 0) {
        core::log_warn(p.string(), " was made with another config or other inputs: recomputing ",
                       stage);
      }
    } catch (const std::exception& e) {
      core::log_warn(p.string(), " is unreadable (", e.what(), "): recomputing ", stage);
    }
  }
  // One decision for all ranks: a rank that skipped a stage another reruns
  // would wait in a collective the other never reaches.
  const bool all =
      comm.allreduce(torch::tensor({ok}, torch::kInt64), dist::ReduceOp::kMin).item<int64_t>() == 1;
  if (ok && !all && comm.rank() == 0)
    core::log_warn(p.string(),
                   ": another rank's share of it failed its check (see its warning): recomputing ",
                   stage);
  return all;
}

}  // namespace tc::pipeline
