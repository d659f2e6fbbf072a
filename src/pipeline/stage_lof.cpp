// Stage lof (SoftPatch, TailedCore): the method's noise scores of every
// training patch and the patches kept (lof.h5).
#include "tailedcore/dist/comm.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kLof; }

void run(StageContext& ctx) {
  const auto& f = ctx.train_shard;
  const auto scores = ctx.method.noise_scores(f.patches, ctx.train_grids, ctx.plan, ctx.comm);
  if (ctx.comm.rank() == 0) write_lof(ctx.cache.path(name()), ctx.cache.config_hash(), scores);
}

void load(StageContext& ctx) { ctx.lof = read_lof(ctx.cache.path(name()), ctx.train_rows); }

}  // namespace

Stage lof_stage() { return {kLof, {kFeatures}, false, run, load}; }

}  // namespace tc::pipeline
