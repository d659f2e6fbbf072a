#include <algorithm>
#include <exception>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/names.h"
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

// The built-in stages (one file each: src/pipeline/stage_<name>.cpp).
Stage features_stage();
Stage tail_stage();
Stage lof_stage();
Stage tail_features_stage();
Stage coreset_stage();
Stage test_features_stage();
Stage scores_stage();

namespace {

// In run order: stage_order picks the first ready stage of this table.
std::vector<Stage>& stage_table() {
  static std::vector<Stage> table = {
      features_stage(), tail_stage(),          lof_stage(),    tail_features_stage(),
      coreset_stage(),  test_features_stage(), scores_stage(),
  };
  return table;
}

}  // namespace

std::vector<StageId> stage_ids() {
  std::vector<StageId> ids;
  for (const auto& s : stage_table()) ids.push_back(s.id);
  return ids;
}

const Stage& stage(const StageId& id, const std::string& where) {
  for (const auto& s : stage_table())
    if (s.id == id) return s;
  TC_FAIL(where, " '", id, "' is not a stage: expected one of ", core::join_names(stage_ids()));
}

bool register_stage(Stage s) {
  const auto known = stage_ids();
  TC_CHECK(std::find(known.begin(), known.end(), s.id) == known.end(), "register_stage: '", s.id,
           "' is taken: the stages are ", core::join_names(known));
  stage_table().push_back(std::move(s));
  return true;
}

std::vector<StageId> stage_order(const models::Method& method, const exp::Plan& plan) {
  const auto reads = [&](const Stage& s) {
    auto in = s.inputs;
    if (s.reads_fit_inputs)
      for (const auto& id : method.fit_inputs(plan)) in.push_back(id);
    return in;
  };
  // Every stage scores needs, transitively.
  std::vector<StageId> needed, todo = {kScores};
  while (!todo.empty()) {
    const StageId id = todo.back();
    todo.pop_back();
    if (std::find(needed.begin(), needed.end(), id) != needed.end()) continue;
    needed.push_back(id);
    for (const auto& in : reads(stage(id, method.name() + ": an input"))) todo.push_back(in);
  }
  // In table order, each stage once its inputs have run.
  std::vector<StageId> order;
  const auto ran = [&](const StageId& id) {
    return std::find(order.begin(), order.end(), id) != order.end();
  };
  while (order.size() < needed.size()) {
    bool progressed = false;
    for (const auto& s : stage_table()) {
      if (ran(s.id) || std::find(needed.begin(), needed.end(), s.id) == needed.end()) continue;
      const auto in = reads(s);
      if (!std::all_of(in.begin(), in.end(), ran)) continue;
      order.push_back(s.id);
      progressed = true;
      break;
    }
    TC_CHECK(progressed, method.name(), ": the stages ", core::join_names(needed),
             " read each other in a cycle");
  }
  return order;
}

std::vector<models::ClassPredictions> run_stages(StageContext& ctx, const std::string& stop_after) {
  for (const auto& id : stage_order(ctx.method, ctx.plan)) {
    const Stage& s = stage(id, "run_stages");
    StageCache& cache = s.shared ? ctx.feature_cache : ctx.cache;
    if (!cache.done(id, ctx.comm)) {  // collective: one decision for all ranks
      StageTimer t(ctx.summary, id);
      s.run(ctx);
      ctx.comm.barrier();  // the artifact is committed before any rank reads it
      // A stage's device buffers (a bank gather, a Gram block, kNN blocks) stay in
      // LibTorch's cache otherwise, beside the next stage's raw allocations.
      if (ctx.plan.device.is_cuda()) dist::release_cached_cuda_memory();
    }
    if (s.load) s.load(ctx);
    if (id == stop_after) {
      core::log_info("stopping after stage ", id, " (--stop-after)");
      ctx.summary.stopped_early = true;
      return {};
    }
  }
  if (ctx.comm.rank() != 0) return {};
  return read_scores(ctx.cache.path(kScores), ctx.catalog.classes());
}

}  // namespace tc::pipeline
