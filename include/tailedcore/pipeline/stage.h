// The stages of one run for one backbone, as data: each has an id (its name:
// its artifact <id>.h5, what --stop-after and Method::fit_inputs take), the
// stages whose outputs it reads, `run` (compute and write its artifact;
// collective) and `load` (read the artifact back for the stages after it).
// Which stages run follows from the inputs (stage_order): scores and what it
// reads, the coreset reading the method's fit_inputs too. run_stages is the
// loop:
//   for each stage: artifact cached? skip : time it, run, barrier; load; --stop-after?
//
// Adding a stage: a src/pipeline/stage_<name>.cpp defining its Stage and its
// line in stage_table() (src/pipeline/stage_runner.cpp); code linked into an
// executable (a test, a plug-in) calls register_stage instead. A method that
// reads it names it in fit_inputs (FitInputs::artifacts holds its path).
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

/// A stage's name: its artifact <id>.h5, what --stop-after and
/// models::Method::fit_inputs take.
using StageId = std::string;
// The built-in stages, in run order.
inline const StageId kFeatures = "features", kTail = "tail", kLof = "lof",
                     kTailFeatures = "tail_features", kCoreset = "coreset",
                     kTestFeatures = "test_features", kScores = "scores";

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
      train_shard;  // kFeatures: this rank's images' rows (patches), every image's embeddings
  int64_t train_first_row = 0;   // kFeatures: global index of train_shard.patches' first row
  int64_t train_rows = 0;        // kFeatures: rows of the whole training set
  core::PatchGrids train_grids;  // kFeatures: every training image's patch grid
  at::Tensor tail;               // kTail: tail image indices, ascending
  sampling::LofResult lof;       // kLof
};

struct Stage {
  StageId id;
  std::vector<StageId> inputs;  // stages that must have run (loaded) before
  bool shared = false;          // artifact in the feature cache, not the run's
  void (*run)(StageContext&) = nullptr;
  void (*load)(StageContext&) = nullptr;  // nullptr: nothing later stages read in memory
  bool reads_fit_inputs = false;          // also reads the method's fit_inputs (the coreset)
};

/// The stage called `id`; an unknown one is an error naming `where` (e.g.
/// "--stop-after") that lists the stages.
const Stage& stage(const StageId& id, const std::string& where);
/// Every stage's id, the built-in ones first (in run order).
std::vector<StageId> stage_ids();
/// Adds a stage after the built-in ones (an id taken is an error); returns
/// true, so that `const bool r = register_stage(...);` at namespace scope
/// registers before main (see models::register_method for why built-ins are
/// a table instead).
bool register_stage(Stage s);
/// The stages a run of `method` on `plan` needs, in run order: scores and,
/// transitively, every stage it reads (the coreset reading the method's
/// fit_inputs as well); of the stages whose inputs have run, always the
/// first in stage_ids() order.
std::vector<StageId> stage_order(const models::Method& method, const exp::Plan& plan);

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

}  // namespace tc::pipeline
