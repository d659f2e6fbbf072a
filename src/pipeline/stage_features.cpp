// Stage features: patch features and global embeddings of the training set
// (features.h5, shared by every run with the same feature settings).
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kFeatures; }

void run(StageContext& ctx) {
  // Embeddings always: one extraction then serves every method on this data.
  // Each rank writes its own rows (feature_shards.h); nothing gathers the bank.
  const auto f = ctx.source.train_shard(ctx.train, /*with_embeddings=*/true);
  write_features_sharded(ctx.feature_cache.path(name()), ctx.feature_cache.config_hash(), f,
                         f.embeddings, ctx.train, ctx.plan.feature_dtype, ctx.backbone, ctx.comm);
}

// Only this rank's rows (feature_shards.h), and every image's embeddings.
void load(StageContext& ctx) {
  auto shard = read_feature_shard(ctx.feature_cache.path(name()), ctx.comm);
  ctx.train_shard = std::move(shard.local);
  ctx.train_first_row = shard.first_row;
  ctx.train_rows = shard.total_rows;
  ctx.train_grids = std::move(shard.grids);
}

}  // namespace

Stage features_stage() { return {kFeatures, {}, /*shared=*/true, run, load}; }

}  // namespace tc::pipeline
