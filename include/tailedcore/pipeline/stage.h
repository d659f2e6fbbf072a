// The stages of one run for one backbone, as data: each has an id (its name
// and artifact file: models::stage_name), the stages whose outputs it reads,
// `run` (compute and write its artifact; collective) and `load` (read the
// artifact back for the stages after it). The method says which stages run
// (models::Method::stages); run_stages is the loop:
//   for each stage: artifact cached? skip : time it, run, barrier; load; --stop-after?
//
// Adding a stage: a src/pipeline/stage_<name>.cpp defining its Stage, an id
// in models::StageId (models/method.h), and its line in stage_table()
// (src/pipeline/stage_runner.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <string>
#include <vector>

#include "tailedcore/models/method.h"
#include "tailedcore/pipeline/artifacts.h"
#include "tailedcore/pipeline/run.h"

namespace tc::data {
class Catalog;
struct ImageRecord;
}  // namespace tc::data
namespace tc::exp {
struct Plan;
}

namespace tc::pipeline {

class FeatureSource;
class StageCache;

struct StageContext {
  const exp::Plan& plan;
  const models::Method& method;
  std::string backbone;
  const data::Catalog& catalog;
  const std::vector<data::ImageRecord>& train;
  StageCache& cache;          // this run's artifacts
  StageCache& feature_cache;  // features shared by every run with the same feature settings
  FeatureSource& source;
  dist::Comm& comm;
  RunSummary& summary;

  // What loaded stages hold for the ones after them.
  FeatureSet
      train_features;  // kFeatures: this rank's images' rows (patches), every image's embeddings
  int64_t train_first_row = 0;   // kFeatures: global index of train_features.patches' first row
  int64_t train_rows = 0;        // kFeatures: rows of the whole training set
  core::PatchGrids train_grids;  // kFeatures: every training image's patch grid
  at::Tensor tail;               // kTail: tail image indices, ascending
  sampling::LofResult lof;       // kLof
};

struct Stage {
  models::StageId id;
  std::vector<models::StageId> inputs;  // stages that must have run (loaded) before
  bool shared = false;                  // artifact in the feature cache, not the run's
  void (*run)(StageContext&) = nullptr;
  void (*load)(StageContext&) = nullptr;  // nullptr: nothing later stages read in memory
};

/// The stage table, indexed by id.
const Stage& stage(models::StageId id);

/// Runs (or loads) the method's stages for ctx.backbone; returns per-class
/// predictions on rank 0 (empty elsewhere, and when stopped early: then
/// ctx.summary.stopped_early is set).
std::vector<models::ClassPredictions> run_stages(StageContext& ctx, const std::string& stop_after);

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
  int exceptions_;         // std::uncaught_exceptions() at the start: a failed stage is not "done"
  int64_t read_at_start_;  // core::usage().bytes_read
};

// The stages (one file each: src/pipeline/stage_<name>.cpp).
Stage features_stage();
Stage tail_stage();
Stage lof_stage();
Stage tail_features_stage();
Stage coreset_stage();
Stage test_features_stage();
Stage scores_stage();

}  // namespace tc::pipeline
