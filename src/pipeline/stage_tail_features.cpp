// Stage tail_features (TailedCore): the tail images' patch rows, then the rows
// of their rotated/flipped views (tail_features.h5), the tail coreset's input.
#include <torch/torch.h>

#include <memory>

#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return models::stage_name(models::StageId::kTailFeatures); }

void run(StageContext& ctx) {
  const auto& spec = ctx.plan.tail_augment;
  const auto& f = ctx.train_features;
  const int64_t P = f.per_image();
  // The tail images' own rows first (ascending image order), then the views,
  // written as they come: at full scale the views outgrow memory (DESIGN
  // "Known hazards"), so no rank holds more than one round of them.
  const auto rows = (ctx.tail.view({-1, 1}) * P + torch::arange(P).view({1, -1})).flatten();
  const int64_t own_rows = rows.size(0);
  // Each rank holds its images' rows only: the tail images' rows come from
  // their owners (ascending rows = rank order), a small share of the bank.
  const int64_t first = ctx.train_first_row, local_rows = f.patches.size(0);
  const auto mine = rows.masked_select((rows >= first) & (rows < first + local_rows)) - first;
  const auto tail_rows = ctx.comm.allgatherv(f.patches.index_select(0, mine));
  std::unique_ptr<TailFeaturesWriter> w;
  if (ctx.comm.rank() == 0) {
    w = std::make_unique<TailFeaturesWriter>(ctx.cache.path(name()), ctx.cache.config_hash(),
                                             own_rows * (1 + spec.views()), f.patches.size(1));
    w->append(tail_rows);
  }
  ctx.source.tail_views(ctx.train, ctx.tail, spec, ctx.comm, [&](const torch::Tensor& round) {
    if (w) w->append(round);
  });
  if (w) w->commit(ctx.tail, spec);
}

}  // namespace

Stage tail_features_stage() {
  return {models::StageId::kTailFeatures, {models::StageId::kFeatures, models::StageId::kTail}, false, run, nullptr};
}

}  // namespace tc::pipeline
