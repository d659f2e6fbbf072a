// Stage test_features: patch features and ground-truth masks of every test
// class (test_features.h5, shared like the training features).
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kTestFeatures; }

void run(StageContext& ctx) {
  // Each rank writes its block of every class to its shard (feature_shards.h).
  ShardedTestFeaturesWriter w(ctx.feature_cache.path(name()), ctx.feature_cache.config_hash(),
                              ctx.plan.feature_dtype, ctx.comm);
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    const auto local = ctx.source.test_shard(records);
    // A class's images share one size (data::check_run_inputs), so one grid;
    // ranks without images of the class learn it from the others.
    const auto& g = local.grids;
    TC_ASSERT(g.is_uniform(), cls, ": test images of several patch grids");
    const auto hw = ctx.comm.allreduce(
        torch::tensor({g.images() ? g.h(0) : int64_t{0}, g.images() ? g.w(0) : int64_t{0}}),
        dist::ReduceOp::kMax);
    std::vector<std::string> paths;
    for (const auto& r : records) paths.push_back(r.path);
    w.add_class(cls, local, paths, {hw[0].item<int64_t>(), hw[1].item<int64_t>()});
  }
  w.commit();
}

}  // namespace

Stage test_features_stage() { return {kTestFeatures, {}, /*shared=*/true, run, nullptr}; }

}  // namespace tc::pipeline
