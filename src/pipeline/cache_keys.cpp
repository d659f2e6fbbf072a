#include "tailedcore/pipeline/cache_keys.h"

#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/files.h"

namespace tc::pipeline {
namespace {

// The keys within `scope`, model.device as resolved for this run.
std::string settings(const exp::Plan& plan, exp::Affects scope) {
  exp::Config cfg = plan.config;
  cfg.model.device = plan.device.is_cuda() ? "cuda" : "cpu";
  return exp::to_key_lines(cfg, scope);
}

}  // namespace

CacheKeys cache_keys(const exp::Plan& plan, const std::string& backbone,
                     const std::filesystem::path& data_dir, const std::string& inputs_hash) {
  const std::string where = "data: " + data_dir.string() + "\nversion: " + TAILEDCORE_VERSION;
  CacheKeys k;
  k.run_id = io::hash_text(settings(plan, exp::Affects::kResults) + where);
  k.run = io::hash_text(k.run_id + "\ninputs: " + inputs_hash);
  std::string features = settings(plan, exp::Affects::kFeatures) + "backbone: " + backbone + "\n";
  // The seed draws random weights only: with given weights it changes nothing.
  if (plan.config.model.backbone_weights.empty())
    features += "seed: " + std::to_string(plan.config.seed) + "\n";
  const std::string feature_hash = io::hash_text(features + where);
  k.feature_dir = backbone + "-" + feature_hash;
  k.features = io::hash_text(feature_hash + "\ninputs: " + inputs_hash);
  return k;
}

}  // namespace tc::pipeline
