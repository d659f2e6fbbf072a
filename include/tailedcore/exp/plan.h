// The config resolved once into the options of every component a run builds:
// the one place where config keys become component settings (no stage reads
// the raw config for them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tailedcore/data/augment.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"

namespace tc::exp {

struct Plan {
  Config config;       // what it was resolved from (config.yaml, the run key)
  std::string method;  // model.coreset_model_name: models::make_method checks it

  // Where this rank computes (model.device resolved by dist::resolve_device:
  // cpu, or cuda:<dist::this_rank_device()>). The option structs below carry
  // its CUDA ordinal (-1 on the CPU).
  c10::Device device{c10::kCPU};

  // Images and features.
  data::TransformOptions transform;
  int64_t batch_size = 32, workers = 2;
  std::vector<std::string> backbones;
  features::EmbedderOptions embedder;  // global_embedding off: the stage asks for it
  io::DType feature_dtype = io::DType::kFloat32;

  // The tail branch (TailedCore): kNone = none.
  sampling::TailRule tail_rule = sampling::TailRule::kNone;  // the config's tail_th_type
  sampling::ClassSizeOptions class_size;  // resolved from tail_rule when set (its threshold is
                                          // also TailedLOF's patch-wise rule)
  data::AugmentSpec tail_augment;
  bool tail_lof = false;  // TailedLOF instead of LOF

  // Noise filter, coresets, search. Each random draw has its own seed.
  sampling::LofOptions lof;
  sampling::CoresetOptions head_coreset, tail_coreset;
  index::IndexOptions index;
  double bank_memory_bytes = 0;  // model.bank_memory_gb: replicated bank up to this, else sharded
  double greedy_checkpoint_seconds = 0;  // model.greedy_checkpoint_s

  /// The options of backbone `name` (one of `backbones`).
  features::BackboneOptions backbone(const std::string& name) const;
};

/// A validated config (parse_config / load_config) as a plan.
Plan make_plan(const Config& cfg);

}  // namespace tc::exp
