// Stage scores: every test image scored against the bank, its anomaly map
// and image score (scores.h5, what the metrics read).
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/models/bank_search.h"
#include "tailedcore/models/scorer.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

// What approximate search costs: recall@1 against exact search on the first
// class's test patches (up to 4096), in the log and as an attribute.
void record_ivf_recall(const StageContext& ctx, const models::ReplicatedBank& bank,
                       const TestFeaturesReader& test, io::H5Writer& w) {
  const auto& first = ctx.catalog.classes().front();
  const int64_t rows = std::min<int64_t>(4096, test.file().shape(first + "/features")[0]);
  index::IndexOptions ivf;  // the search's own settings only: recall@1 is about the index
  ivf.type = ctx.plan.index.type;
  ivf.seed = ctx.plan.index.seed;
  const double recall = index::recall_at_1(
      bank.bank().features, test.file().read_rows(first + "/features", 0, rows).to(torch::kFloat32),
      ivf);
  core::log_info("IVF index: recall@1 ", recall, " against exact search on ", rows,
                 " test patches");
  w.set_attr("ivf_recall_at_1", recall);
}

// Sharded bank: each rank reads its own images of the class (a block at a
// time) and their queries travel around the ranks (ShardedBank::nearest_own):
// every test row is read once in the job.
at::Tensor sharded_patch_scores(const models::ShardedBank& bank, const models::Scorer& scorer,
                                const TestFeaturesReader& test, const std::string& cls,
                                dist::Range mine, dist::Comm& comm) {
  const auto [h, w] = test.grid(cls);
  const int64_t per_image = h * w;
  const int64_t images_per_block =
      std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, per_image));
  const int64_t blocks = (mine.size() + images_per_block - 1) / images_per_block;
  const int64_t rounds =
      comm.allreduce(torch::tensor({blocks}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < rounds; ++b) {
    const int64_t first = mine.begin + b * images_per_block;
    const int64_t c = std::max<int64_t>(0, std::min(images_per_block, mine.end - first));
    const auto q = c ? test.file()
                           .read_rows(cls + "/features", first * per_image, c * per_image)
                           .to(torch::kFloat32)
                     : torch::empty({0, bank.dim()});
    const auto s = scorer.score(bank.nearest_own(q, first * per_image));
    if (c) parts.push_back(s);
  }
  return parts.empty() ? torch::empty({0}) : torch::cat(parts);
}

void run(StageContext& ctx) {
  const auto bank_path = ctx.cache.path(kCoreset);
  const auto bank_shape = io::H5Reader(bank_path).shape("coreset");
  TC_CHECK(bank_shape.size() == 2, bank_path.string(), ": /coreset must be [rows, dim]");
  // Replicated when the bank fits the budget (model.bank_memory_gb), else sharded.
  const auto placement = models::choose_bank_placement(bank_shape[0], bank_shape[1],
                                                       ctx.plan.bank_memory_bytes, ctx.comm.size());
  const double gib =
      static_cast<double>(bank_shape[0]) * static_cast<double>(bank_shape[1]) * 4.0 / (1 << 30);
  // The method scores the neighbours either placement finds.
  const auto scorer = ctx.method.scorer(ctx.plan);
  std::unique_ptr<models::ReplicatedBank> replicated;
  std::unique_ptr<models::ShardedBank> sharded;
  if (placement == models::BankPlacement::kSharded) {
    int64_t first_row = 0;
    auto part = models::read_bank_block(bank_path, ctx.comm, first_row);
    if (ctx.comm.rank() == 0)
      core::log_info("scores: bank ", bank_shape[0], " x ", bank_shape[1], " (", gib,
                     " GiB) over the budget of ", ctx.plan.bank_memory_bytes / (1 << 30),
                     " GiB: sharded over ", ctx.comm.size(), " ranks (", part.rows(),
                     " rows here), every rank searching its part for every query");
    sharded =
        std::make_unique<models::ShardedBank>(std::move(part), first_row, ctx.plan.index, ctx.comm);
  } else {
    replicated = std::make_unique<models::ReplicatedBank>(read_bank(bank_path), ctx.plan.index);
    if (ctx.comm.rank() == 0)
      core::log_info("scores: bank ", bank_shape[0], " x ", bank_shape[1], " (", gib,
                     " GiB) replicated on every rank", " (budget ",
                     ctx.plan.bank_memory_bytes / (1 << 30), " GiB)");
  }
  const TestFeaturesReader test(ctx.feature_cache.path(kTestFeatures));
  std::unique_ptr<io::H5Writer> w;
  if (ctx.comm.rank() == 0)
    w = std::make_unique<io::H5Writer>(ctx.cache.path(kScores), "scores", ctx.cache.config_hash());
  if (w) w->set_attr("bank_placement", std::string(sharded ? "sharded" : "replicated"));
  if (w && replicated && ctx.plan.index.type == index::IndexType::kIvf)
    record_ivf_recall(ctx, *replicated, test, *w);
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    const int64_t n = static_cast<int64_t>(records.size());
    const auto [h, wd] = test.grid(cls);  // each class its own grid (native sizes)
    const auto mine = dist::shard_range(n, ctx.comm.rank(), ctx.comm.size());
    // Replicated: this rank's images against the whole bank; sharded: see above.
    const auto block = sharded ? FeatureSet{} : test.images(cls, mine.begin, mine.size());
    const auto mask_shape = test.file().shape(cls + "/gt_masks");  // [n, H, W]: the maps' size
    auto patch_scores = sharded ? sharded_patch_scores(*sharded, *scorer, test, cls, mine, ctx.comm)
                        : block.patches.size(0)
                            ? scorer->score(replicated->nearest(block.patches, mine.begin * h * wd))
                            : torch::empty({0});
    // Upsampling and blur on the rank's device; the maps come back for the gather.
    auto pred = models::to_predictions(patch_scores.to(ctx.plan.device), mine.size(), h, wd,
                                       mask_shape.at(1), mask_shape.at(2));
    pred.image_scores = pred.image_scores.to(torch::kCPU);
    pred.maps = pred.maps.to(torch::kCPU);
    models::ClassPredictions all;
    all.class_name = cls;
    // To rank 0 only, which writes scores.h5 (maps are n x H x W floats a class).
    all.image_scores = dist::gather_to(ctx.comm, pred.image_scores, 0);
    all.maps = dist::gather_to(ctx.comm, pred.maps, 0);  // float32: the metrics' input
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

Stage scores_stage() { return {kScores, {kCoreset, kTestFeatures}, false, run, nullptr}; }

}  // namespace tc::pipeline
