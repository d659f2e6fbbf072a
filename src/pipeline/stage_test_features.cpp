// Stage test_features: patch features and ground-truth masks of every test
// class (test_features.h5, shared like the training features).
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return models::stage_name(models::StageId::kTestFeatures); }

void run(StageContext& ctx) {
  // Each rank writes its block of every class to its shard (feature_shards.h).
  ShardedTestFeaturesWriter w(ctx.feature_cache.path(name()), ctx.feature_cache.config_hash(),
                              ctx.plan.feature_dtype, ctx.comm);
  int64_t h = 0, wd = 0;
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    const auto local = ctx.source.test_features(records, ctx.comm);
    h = local.h;
    wd = local.w;
    std::vector<std::string> paths;
    for (const auto& r : records) paths.push_back(r.path);
    w.add_class(cls, local, paths);
  }
  w.commit(h, wd);
}

}  // namespace

Stage test_features_stage() { return {models::StageId::kTestFeatures, {}, /*shared=*/true, run, nullptr}; }

}  // namespace tc::pipeline
