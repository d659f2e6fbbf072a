#include "tailedcore/pipeline/stage_cache.h"

#include "tailedcore/core/log.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"

namespace tc::pipeline {

StageCache::StageCache(std::filesystem::path dir, std::string config_hash)
    : dir_(std::move(dir)), hash_(std::move(config_hash)) {}

std::filesystem::path StageCache::path(const std::string& stage) const { return dir_ / (stage + ".h5"); }

bool StageCache::done(const std::string& stage) const {
  const auto p = path(stage);
  if (!std::filesystem::exists(p)) return false;
  try {
    io::H5Reader r(p);
    if (r.has_attr("config_hash") && r.attr_string("config_hash") == hash_) {
      // A sharded artifact (pipeline/feature_shards.h): its shards still there,
      // made with this key (a missing one would read as fill values).
      io::check_virtual_sources(p, hash_);
      // Every chunk read and checksummed: a file damaged in the middle (it still
      // opens) is recomputed here rather than failing, or lying, when loaded.
      r.verify();
      return true;
    }
    core::log_warn(p.string(), " was made with another config or other inputs: recomputing ", stage);
  } catch (const std::exception& e) {
    core::log_warn(p.string(), " is unreadable (", e.what(), "): recomputing ", stage);
  }
  return false;
}

}  // namespace tc::pipeline
