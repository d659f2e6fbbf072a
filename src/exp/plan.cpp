#include "tailedcore/exp/plan.h"

#include "tailedcore/core/check.h"
#include "tailedcore/dist/device_startup.h"
#include "tailedcore/sampling/class_size_patchwise.h"

namespace tc::exp {
namespace {

// Seeds of the independent random draws of one run (the reference draws a fresh
// projection per sampler call): distinct, fixed, and the same on every rank.
constexpr uint64_t kLofStream = 1, kHeadGreedyStream = 2, kTailGreedyStream = 3;
uint64_t stream_seed(const Config& cfg, uint64_t stream) {
  return static_cast<uint64_t>(cfg.seed) * 1000003ull + stream;
}

sampling::CoresetOptions coreset_options(const Config& cfg, uint64_t stream) {
  sampling::CoresetOptions o;
  o.ratio = cfg.model.greedy_ratio;
  o.proj_dim = cfg.model.greedy_proj_dim;
  o.seed = stream_seed(cfg, stream);
  return o;
}

}  // namespace

features::BackboneOptions Plan::backbone(const std::string& name) const {
  features::BackboneOptions o;
  o.name = name;
  o.weights_path = config.model.backbone_weights;
  o.seed = static_cast<uint64_t>(config.seed);
  return o;
}

Plan make_plan(const Config& cfg) {
  const auto& m = cfg.model;
  Plan p;
  p.config = cfg;
  p.method = m.coreset_model_name;
  p.transform.resize = cfg.data.resize;
  p.transform.crop = cfg.data.imagesize;
  p.batch_size = cfg.data.batch_size;
  p.workers = cfg.data.workers;
  p.backbones = m.backbone_names;
  p.embedder.layers = m.layers_to_extract;
  p.embedder.target_dim = m.target_embed_dimension;
  if (!m.embedding_to_extract_from.empty()) p.embedder.global_layer = m.embedding_to_extract_from;
  p.feature_dtype = io::feature_dtypes().parse(m.feature_dtype, "model.feature_dtype");

  const std::string source = cfg.source.empty() ? "" : cfg.source + ": ";
  p.tail_rule = sampling::tail_rules().parse(m.tail_th_type, source + "model.tail_th_type");
  if (p.tail_rule != sampling::TailRule::kNone)
    p.class_size = sampling::class_size_options(p.tail_rule);
  p.tail_augment = data::augment_spec(m.tail_data_augment_type);
  p.tail_lof = m.tail_lof;
  if (p.tail_lof) {  // TailedLOF's class sizes are patch-wise: checked before any work
    TC_CHECK(p.tail_rule != sampling::TailRule::kNone, source,
             "model.tail_lof: true with tail_th_type null: TailedLOF needs a patch-wise rule "
             "(symmin)");
    sampling::check_patchwise(p.class_size.threshold,
                              source + "model.tail_th_type '" + m.tail_th_type + "' with tail_lof");
  }

  p.lof.k = m.lof_k;
  p.lof.keep_quantile = m.lof_keep;
  p.lof.proj_dim = m.greedy_proj_dim;
  p.lof.seed = stream_seed(cfg, kLofStream);
  p.head_coreset = coreset_options(cfg, kHeadGreedyStream);
  p.tail_coreset = coreset_options(cfg, kTailGreedyStream);
  p.index.type = index::index_types().parse(m.index, "model.index");
  p.index.k = m.faiss_k_neighbor;
  p.index.seed = static_cast<uint64_t>(cfg.seed);
  p.bank_memory_bytes = m.bank_memory_gb * double(int64_t{1} << 30);
  p.greedy_checkpoint_seconds = m.greedy_checkpoint_s;

  // Ranges, before any work: each option struct checks its own.
  const std::string keys = source + "model.";
  p.embedder.validate(keys);
  p.lof.validate(keys);
  p.head_coreset.validate(keys);
  p.index.validate(keys);

  // One device per rank: the heavy products of every stage run there.
  p.device = dist::resolve_device(m.device, dist::device_environment(), source + "model.device");
  const int gpu = dist::cuda_ordinal(p.device);
  p.class_size.cuda_device = gpu;
  p.lof.cuda_device = gpu;
  p.head_coreset.cuda_device = gpu;
  p.tail_coreset.cuda_device = gpu;
  p.index.cuda_device = gpu;
  return p;
}

}  // namespace tc::exp
