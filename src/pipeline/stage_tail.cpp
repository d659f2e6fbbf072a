// Stage tail (TailedCore): class sizes from the global embeddings and the
// tail images they select (tail.h5).
#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/report.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/sampling/class_size.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kTail; }

void run(StageContext& ctx) {
  TC_CHECK(ctx.train_shard.embeddings.defined(), ctx.feature_cache.path(kFeatures).string(),
           ": /embeddings is missing: tailedcore needs embedding_to_extract_from: avgpool");
  const auto sel = sampling::select_tail(ctx.train_shard.embeddings, ctx.plan.class_size, ctx.comm);
  if (ctx.comm.rank() == 0)
    write_tail(ctx.cache.path(name()), ctx.cache.config_hash(), sel, ctx.plan.class_size);
}

void load(StageContext& ctx) {
  ctx.tail = read_tail_indices(ctx.cache.path(name()));
  record_tail_selection(ctx.summary, ctx.train, ctx.tail);
}

}  // namespace

Stage tail_stage() { return {kTail, {kFeatures}, false, run, load}; }

}  // namespace tc::pipeline
