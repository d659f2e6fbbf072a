// Stage scores: every test image scored against the bank, its anomaly map
// and image score (scores.h5, what the metrics read).
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/models/scorer.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

using models::StageId;

// What approximate search costs: recall@1 against exact search on the first
// class's test patches (up to 4096), in the log and as an attribute.
void record_ivf_recall(const StageContext& ctx, const models::Scorer& scorer, const TestFeaturesReader& test,
                       io::H5Writer& w) {
  const auto& first = ctx.catalog.classes().front();
  const int64_t rows = std::min<int64_t>(4096, test.file().shape(first + "/features")[0]);
  index::IndexOptions ivf;  // the search's own settings only: recall@1 is about the index
  ivf.type = ctx.plan.index.type;
  ivf.seed = ctx.plan.index.seed;
  const double recall = index::recall_at_1(
      scorer.bank().features, test.file().read_rows(first + "/features", 0, rows).to(torch::kFloat32), ivf);
  core::log_info("IVF index: recall@1 ", recall, " against exact search on ", rows, " test patches");
  w.set_attr("ivf_recall_at_1", recall);
}

void run(StageContext& ctx) {
  const auto scorer =
      ctx.method.scorer(read_bank(ctx.cache.path(models::stage_name(StageId::kCoreset))), ctx.plan);
  const TestFeaturesReader test(ctx.feature_cache.path(models::stage_name(StageId::kTestFeatures)));
  const int64_t h = test.h(), wd = test.w();
  std::unique_ptr<io::H5Writer> w;
  if (ctx.comm.rank() == 0)
    w = std::make_unique<io::H5Writer>(ctx.cache.path(models::stage_name(StageId::kScores)), "scores",
                                       ctx.cache.config_hash());
  if (w && ctx.plan.index.type == index::IndexType::kIvf) record_ivf_recall(ctx, *scorer, test, *w);
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    const int64_t n = static_cast<int64_t>(records.size());
    const auto mine = dist::shard_range(n, ctx.comm.rank(), ctx.comm.size());
    const auto block = test.images(cls, mine.begin, mine.size());
    auto patch_scores = block.patches.size(0) ? scorer->score_patches(block.patches) : torch::empty({0});
    // Upsampling and blur on the rank's device; the maps come back for the gather.
    auto pred = models::to_predictions(patch_scores.to(ctx.plan.device), mine.size(), h, wd, block.masks.size(1),
                                       block.masks.size(2));
    pred.image_scores = pred.image_scores.to(torch::kCPU);
    pred.maps = pred.maps.to(torch::kCPU);
    models::ClassPredictions all;
    all.class_name = cls;
    all.image_scores = ctx.comm.allgatherv(pred.image_scores);
    all.maps = ctx.comm.allgatherv(pred.maps);  // float32: the metrics' input
    if (!w) continue;
    all.labels = torch::empty({n}, torch::kUInt8);
    for (int64_t i = 0; i < n; ++i) all.labels[i] = records[i].is_anomaly ? 1 : 0;
    all.masks = test.masks(cls);
    all.image_paths = test.image_paths(cls);
    write_class_predictions(*w, all);
  }
  if (w) w->commit();
}

}  // namespace

Stage scores_stage() {
  return {StageId::kScores, {StageId::kCoreset, StageId::kTestFeatures}, false, run, nullptr};
}

}  // namespace tc::pipeline
