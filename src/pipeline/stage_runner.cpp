#include <algorithm>
#include <exception>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/usage.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/cuda_device.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {

StageTimer::StageTimer(RunSummary& summary, std::string name)
    : summary_(summary),
      name_(std::move(name)),
      start_(std::chrono::steady_clock::now()),
      exceptions_(std::uncaught_exceptions()),
      read_at_start_(core::usage().bytes_read) {
  core::log_info("stage ", name_, " ...");
}

StageTimer::~StageTimer() {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (std::uncaught_exceptions() > exceptions_) {  // unwinding: the stage did not finish
    core::log_error("stage ", name_, " failed after ", s, " s");
    return;
  }
  summary_.stage_seconds.emplace_back(name_, s);
  // Per rank with TAILEDCORE_LOG_ALL_RANKS=1 (tests/bench/scaling_rss.sh reads these).
  const auto u = core::usage();
  core::log_info("stage ", name_, " done in ", s, " s (read ",
                 (u.bytes_read - read_at_start_) >> 20, " MiB; peak RSS so far ", u.peak_rss >> 20,
                 " MiB)");
}

namespace {

const std::vector<Stage>& stage_table() {
  static const std::vector<Stage> table = {
      features_stage(), tail_stage(),          lof_stage(),    tail_features_stage(),
      coreset_stage(),  test_features_stage(), scores_stage(),
  };
  return table;
}

}  // namespace

const Stage& stage(models::StageId id) {
  for (const auto& s : stage_table())
    if (s.id == id) return s;
  TC_FAIL("stage ", models::stage_name(id), " is not in the stage table");
}

std::vector<models::ClassPredictions> run_stages(StageContext& ctx, const std::string& stop_after) {
  const auto ids = ctx.method.stages(ctx.plan);
  std::vector<models::StageId> done;
  for (const auto id : ids) {
    const Stage& s = stage(id);
    const std::string& name = models::stage_name(id);
    for (const auto in : s.inputs)
      TC_ASSERT(std::find(done.begin(), done.end(), in) != done.end(), ctx.method.name(),
                ": stage ", name, " reads ", models::stage_name(in),
                ", which does not run before it");
    StageCache& cache = s.shared ? ctx.feature_cache : ctx.cache;
    if (!cache.done(name, ctx.comm)) {  // collective: one decision for all ranks
      StageTimer t(ctx.summary, name);
      s.run(ctx);
      ctx.comm.barrier();  // the artifact is committed before any rank reads it
      // A stage's device buffers (a bank gather, a Gram block, kNN blocks) stay in
      // LibTorch's cache otherwise, beside the next stage's raw allocations.
      if (ctx.plan.device.is_cuda()) dist::release_cached_cuda_memory();
    }
    if (s.load) s.load(ctx);
    done.push_back(id);
    if (name == stop_after) {
      core::log_info("stopping after stage ", name, " (--stop-after)");
      ctx.summary.stopped_early = true;
      return {};
    }
  }
  if (ctx.comm.rank() != 0) return {};
  return read_scores(ctx.cache.path(models::stage_name(models::StageId::kScores)),
                     ctx.catalog.classes());
}

}  // namespace tc::pipeline
