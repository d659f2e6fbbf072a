#include "tailedcore/pipeline/run.h"

#include <torch/torch.h>

#include <chrono>
#include <map>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/pipeline/report.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/pipeline/stages.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

std::map<std::string, int64_t> train_counts(const std::vector<data::ImageRecord>& train) {
  std::map<std::string, int64_t> counts;
  for (const auto& r : train) ++counts[r.class_name];
  return counts;
}

// The config keys that change extracted features.
std::string feature_settings(const exp::Config& cfg, const std::string& backbone) {
  std::string s = "backbone: " + backbone + "\nweights: " + cfg.model.backbone_weights +
                  "\nresize: " + std::to_string(cfg.data.resize) +
                  "\nimagesize: " + std::to_string(cfg.data.imagesize) + "\nlayers:";
  for (const auto& l : cfg.model.layers_to_extract) s += " " + l;
  s += "\nseed: " + std::to_string(cfg.seed) + "\nfeature_dtype: " + cfg.model.feature_dtype +
       "\nembedding: " + cfg.model.embedding_to_extract_from +
       "\ndim: " + std::to_string(cfg.model.target_embed_dimension);
  return s;
}

}  // namespace

RunSummary run_experiment(const RunOptions& opts, dist::Comm& comm) {
  const int threads = core::set_thread_count(opts.threads);
  const exp::Config cfg = exp::load_config(opts.config_path, opts.overrides);
  core::seed_everything(static_cast<uint64_t>(cfg.seed));
  const auto catalog = data::Catalog::scan(opts.data_dir);
  const auto train = catalog.train_pool();
  TC_CHECK(!train.empty(), opts.data_dir.string(), ": the training set is empty");

  const std::string dataset =
      opts.dataset_name.empty() ? fs::absolute(opts.data_dir).lexically_normal().filename().string()
                                : opts.dataset_name;
  const std::string config_yaml = exp::to_yaml(cfg);
  const std::string hash =
      io::hash_text(config_yaml + "\ndata: " + fs::absolute(opts.data_dir).lexically_normal().string() +
                    "\nversion: " + TAILEDCORE_VERSION);
  const std::string run_id = opts.run_id.empty() ? hash : opts.run_id;
  RunSummary summary;
  summary.model = cfg.model.coreset_model_name;
  summary.run_dir = opts.out_root / dataset / cfg.name / run_id;
  if (comm.rank() == 0) {
    io::ensure_writable_dir(summary.run_dir);
    io::write_text_atomic(summary.run_dir / "config.yaml", config_yaml);
    core::set_log_file((summary.run_dir / "run.log").string());
  }
  comm.barrier();
  core::log_info("run ", summary.run_dir.string(), ": ", cfg.model.coreset_model_name, " on ",
                 train.size(), " training images, ", catalog.classes().size(), " classes, ",
                 comm.size(), " rank(s) x ", threads, " thread(s)");

  // One bank per backbone; per-class scores are min-max normalised and averaged (SPEC 5.5).
  const bool several = cfg.model.backbone_names.size() > 1;
  std::vector<ClassPredictions> combined;
  for (const auto& backbone : cfg.model.backbone_names) {
    const fs::path dir = several ? summary.run_dir / backbone : summary.run_dir;
    if (comm.rank() == 0) io::ensure_writable_dir(dir);
    comm.barrier();
    StageCache cache(dir, hash);
    // Features depend on fewer settings than the run: runs that share them (PatchCore,
    // SoftPatch and TailedCore on one data set) share one extraction.
    const std::string feature_hash = io::hash_text(
        feature_settings(cfg, backbone) + "\ndata: " +
        fs::absolute(opts.data_dir).lexically_normal().string() + "\nversion: " + TAILEDCORE_VERSION);
    const fs::path feature_dir = opts.out_root / dataset / "features" / (backbone + "-" + feature_hash);
    if (comm.rank() == 0) io::ensure_writable_dir(feature_dir);
    comm.barrier();
    StageCache feature_cache(feature_dir, feature_hash);
    StageContext ctx{cfg,  backbone, catalog, train, cache, feature_cache,
                     comm, summary, core::single_rank_thread_count(opts.threads)};
    auto preds = run_backbone(ctx, opts.stop_after);
    if (summary.stopped_early) {
      if (comm.rank() == 0) core::set_log_file("");
      return summary;
    }
    accumulate_predictions(combined, preds, cfg.model.backbone_names.size());
  }

  if (comm.rank() == 0) {
    StageTimer t(summary, "metrics");
    const auto counts = train_counts(train);
    write_results(summary, combined, counts, cfg, opts.pictures_per_class);
  }
  comm.barrier();
  if (comm.rank() == 0) core::set_log_file("");
  return summary;
}

}  // namespace tc::pipeline
