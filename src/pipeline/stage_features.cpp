// Stage features: patch features and global embeddings of the training set
// (features.h5, shared by every run with the same feature settings).
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return models::stage_name(models::StageId::kFeatures); }

void run(StageContext& ctx) {
  // Embeddings always: one extraction then serves every method on this data.
  const auto f = ctx.source.train_features(ctx.train, /*with_embeddings=*/true, ctx.comm);
  if (ctx.comm.rank() == 0)
    write_features(ctx.feature_cache.path(name()), ctx.feature_cache.config_hash(), f, ctx.train,
                   ctx.plan.feature_dtype, ctx.backbone);
}

void load(StageContext& ctx) { ctx.train_features = read_features(ctx.feature_cache.path(name())); }

}  // namespace

Stage features_stage() { return {models::StageId::kFeatures, {}, /*shared=*/true, run, load}; }

}  // namespace tc::pipeline
