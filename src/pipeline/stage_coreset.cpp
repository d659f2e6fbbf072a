// Stage coreset: the method fits its memory bank from the stages before
// (coreset.h5).
#include <algorithm>

#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return models::stage_name(models::StageId::kCoreset); }

bool runs(const StageContext& ctx, models::StageId id) {
  const auto ids = ctx.method.stages(ctx.plan);
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void run(StageContext& ctx) {
  models::FitInputs in;
  in.patches = ctx.train_features.patches;  // this rank's rows
  in.first_row = ctx.train_first_row;
  if (runs(ctx, models::StageId::kLof)) in.lof = &ctx.lof;
  if (runs(ctx, models::StageId::kTailFeatures))
    in.tail_features = ctx.cache.path(models::stage_name(models::StageId::kTailFeatures));
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
void load(StageContext& ctx) { ctx.train_features.patches = at::Tensor(); }

}  // namespace

Stage coreset_stage() {
  return {models::StageId::kCoreset, {models::StageId::kFeatures}, false, run, load};
}

}  // namespace tc::pipeline
