// The keys artifacts are made with, computed here and nowhere else. A stage's
// artifact is reused only when it carries the key of the run asking for it
// (pipeline/stage_cache.h).
//
// Both are computed from the resolved Plan and the config table's own word on
// each key (exp::Affects): a new key is covered by declaring what it changes.
// - The run key covers the keys that change features or results, the data
//   folder, the version and every input file (pipeline/inputs.h).
// - The feature key covers only the keys that change extracted features, the
//   one backbone, and the seed only with random weights, so PatchCore,
//   SoftPatch and TailedCore on one data set, and the seeds of a sweep with
//   pretrained weights, share one extraction. `tailedcore extract` writes its
//   file with the same key.
// - Placement and scheduling keys (threads, batch size, bank budget,
//   checkpoints) are in neither. model.device enters resolved (cpu | cuda),
//   never as `auto`.
#pragma once

#include <filesystem>
#include <string>

namespace tc::exp {
struct Plan;
}

namespace tc::pipeline {

struct CacheKeys {
  std::string run_id;       // the default run folder name: config, data and version
  std::string run;          // the run's artifacts: run_id's settings and the inputs
  std::string feature_dir;  // "<backbone>-<hash>": the shared feature folder's name
  std::string features;     // the feature artifacts: feature_dir's settings and the inputs
};

/// `data_dir` canonical; `inputs_hash` from list_inputs.
CacheKeys cache_keys(const exp::Plan& plan, const std::string& backbone,
                     const std::filesystem::path& data_dir, const std::string& inputs_hash);

}  // namespace tc::pipeline
