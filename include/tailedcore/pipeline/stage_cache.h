// Resumable stages: each stage writes one artifact under the run directory;
// a stage whose artifact exists and carries the run's config_hash is done and
// is loaded instead of recomputed. Artifacts are written atomically (io/hdf5.h),
// so a run interrupted mid-stage resumes from the last finished stage.
#pragma once

#include <filesystem>
#include <string>

namespace tc::dist {
class Comm;
}

namespace tc::pipeline {

class StageCache {
 public:
  StageCache(std::filesystem::path dir, std::string config_hash);
  /// The artifact path of a stage ("features" -> <dir>/features.h5).
  std::filesystem::path path(const std::string& stage) const;
  /// True when the artifact exists, was made with this key (config and
  /// inputs), passes the integrity rule (io::check_virtual_sources) and every
  /// rank's share of it reads through (io::verify_share: each byte is read by
  /// one rank, shard r by rank r); else logs why and returns false.
  /// Collective over comm (one allreduce): every rank calls it for the same
  /// stages in the same order, and all get the same answer.
  bool done(const std::string& stage, dist::Comm& comm) const;
  const std::string& config_hash() const { return hash_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string hash_;
};

}  // namespace tc::pipeline
