// The keys artifacts are made with, computed here and nowhere else. A stage's
// artifact is reused only when it carries the key of the run asking for it
// (pipeline/stage_cache.h).
//
// - The run key covers the whole resolved config, the data folder, the
//   version and every input file (pipeline/inputs.h).
// - The feature key covers only what changes extracted features (backbone,
//   weights, sizes, layers, dimension, dtype, embedding; the seed only with
//   random weights), so PatchCore, SoftPatch and TailedCore on one data set,
//   and the seeds of a sweep with pretrained weights, share one extraction.
//   `tailedcore extract` writes its file with the same key.
#pragma once

#include <filesystem>
#include <string>

namespace tc::exp {
struct Config;
}

namespace tc::pipeline {

struct CacheKeys {
  std::string run_id;       // the default run folder name: config, data and version
  std::string run;          // the run's artifacts: run_id's settings and the inputs
  std::string feature_dir;  // "<backbone>-<hash>": the shared feature folder's name
  std::string features;     // the feature artifacts: feature_dir's settings and the inputs
};

/// `data_dir` canonical; `inputs_hash` from list_inputs.
CacheKeys cache_keys(const exp::Config& cfg, const std::string& backbone, const std::filesystem::path& data_dir,
                     const std::string& inputs_hash);

}  // namespace tc::pipeline
