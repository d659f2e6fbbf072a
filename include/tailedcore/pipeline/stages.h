// The stages of one run for one backbone (features, tail, lof, tail_features,
// coreset, scores), each cached as an HDF5 artifact (DESIGN.md "Artifacts").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "tailedcore/pipeline/run.h"

namespace tc::data {
class Catalog;
struct ImageRecord;
}
namespace tc::exp {
struct Config;
}

namespace tc::pipeline {

class StageCache;

struct StageContext {
  const exp::Config& cfg;
  std::string backbone;
  const data::Catalog& catalog;
  const std::vector<data::ImageRecord>& train;
  StageCache& cache;           // this run's artifacts (tail, lof, coreset, scores)
  StageCache& feature_cache;   // features shared by every run with the same feature settings
  dist::Comm& comm;
  RunSummary& summary;
};

/// Scores of one test class (on rank 0 after the scores stage; empty elsewhere).
struct ClassPredictions {
  std::string class_name;
  at::Tensor image_scores;  // [n] float32
  at::Tensor maps;          // [n, H, W] float32
  at::Tensor labels;        // [n] uint8
  at::Tensor masks;         // [n, H, W] uint8 {0,1}
  std::vector<std::string> image_paths;
};

/// The stage names `--stop-after` accepts, in run order.
const std::vector<std::string>& stage_names();

/// The predictions stored in a scores.h5 for `classes` (maps as float32).
std::vector<ClassPredictions> read_scores(const std::filesystem::path& scores_h5,
                                          const std::vector<std::string>& classes);

/// Runs (or loads) every stage for ctx.backbone; returns per-class predictions.
/// Sets ctx.summary.stopped_early when `stop_after` names a finished stage.
std::vector<ClassPredictions> run_backbone(StageContext& ctx, const std::string& stop_after);

/// Adds one of `backbones` backbones' predictions: with several, each class's
/// image scores and maps are min-max normalised and averaged (SPEC 5.5).
void accumulate_predictions(std::vector<ClassPredictions>& into,
                            const std::vector<ClassPredictions>& add, size_t backbones);

/// Logs a stage's start and end and records its wall time in the summary;
/// a stage left by an exception is logged as failed.
class StageTimer {
 public:
  StageTimer(RunSummary& summary, std::string name);
  ~StageTimer();

 private:
  RunSummary& summary_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
  int exceptions_;  // std::uncaught_exceptions() at the start: a failed stage is not "done"
};

}  // namespace tc::pipeline
