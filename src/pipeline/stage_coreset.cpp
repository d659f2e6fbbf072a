// Stage coreset: the method fits its memory bank from the stages before
// (coreset.h5).
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kCoreset; }

void run(StageContext& ctx) {
  models::FitInputs in;
  in.train = models::LocalRows::of(ctx.train_shard.patches, ctx.train_first_row);
  for (const auto& id : ctx.method.fit_inputs(ctx.plan)) {
    in.artifacts[id] = (stage(id, "fit_inputs").shared ? ctx.feature_cache : ctx.cache).path(id);
    if (id == kLof) in.lof = &ctx.lof;  // the one input held in memory (lof_stage's load)
  }
  // The greedy's checkpoints (coreset-<branch>.rank-<r>-of-<R>.ckpt beside the
  // artifact) make a preempted run resume mid-greedy; the key is the run's.
  in.checkpoint = {ctx.cache.dir() / name(), ctx.cache.config_hash(),
                   ctx.plan.greedy_checkpoint_seconds};
  const auto bank = ctx.method.fit(in, ctx.plan, ctx.comm);
  write_bank(ctx.cache.path(name()), ctx.cache.config_hash(), bank, ctx.method.name(), ctx.comm);
  if (ctx.comm.rank() == 0) in.checkpoint.remove_files();  // the artifact holds the result now
}

// Run or cached: no stage after this one reads the training rows, so they
// leave memory here (the test stages would otherwise hold them to the end).
void load(StageContext& ctx) { ctx.train_shard.patches = at::Tensor(); }

}  // namespace

Stage coreset_stage() {
  return {kCoreset, {kFeatures}, false, run, load, /*reads_fit_inputs=*/true};
}

}  // namespace tc::pipeline
