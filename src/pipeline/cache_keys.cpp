#include "tailedcore/pipeline/cache_keys.h"

#include "tailedcore/exp/config.h"
#include "tailedcore/io/files.h"

namespace tc::pipeline {
namespace {

// The config keys that change extracted features.
std::string feature_settings(const exp::Config& cfg, const std::string& backbone) {
  const auto& m = cfg.model;
  std::string s = "backbone: " + backbone + "\nweights: " + m.backbone_weights +
                  "\nresize: " + std::to_string(cfg.data.resize) +
                  "\nimagesize: " + std::to_string(cfg.data.imagesize) + "\nlayers:";
  for (const auto& l : m.layers_to_extract) s += " " + l;
  // The seed draws random weights only: with given weights it changes nothing.
  if (m.backbone_weights.empty()) s += "\nseed: " + std::to_string(cfg.seed);
  s += "\nfeature_dtype: " + m.feature_dtype + "\nembedding: " + m.embedding_to_extract_from +
       "\ndim: " + std::to_string(m.target_embed_dimension);
  // GPU features equal the CPU's to float rounding only: a run on one never reuses the other's.
  s += "\ndevice: " + m.device;
  return s;
}

}  // namespace

CacheKeys cache_keys(const exp::Config& cfg, const std::string& backbone, const std::filesystem::path& data_dir,
                     const std::string& inputs_hash) {
  const std::string where = "\ndata: " + data_dir.string() + "\nversion: " + TAILEDCORE_VERSION;
  CacheKeys k;
  k.run_id = io::hash_text(exp::to_yaml(cfg) + where);
  k.run = io::hash_text(k.run_id + "\ninputs: " + inputs_hash);
  const std::string feature_hash = io::hash_text(feature_settings(cfg, backbone) + where);
  k.feature_dir = backbone + "-" + feature_hash;
  k.features = io::hash_text(feature_hash + "\ninputs: " + inputs_hash);
  return k;
}

}  // namespace tc::pipeline
