// Stage tail_features (TailedCore): the tail images' patch rows, then the rows
// of their rotated/flipped views (tail_features.h5), the tail coreset's input.
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return models::stage_name(models::StageId::kTailFeatures); }

void run(StageContext& ctx) {
  auto spec = ctx.plan.tail_augment;
  if (!spec.from_uncropped && spec.angle_step > 0 && ctx.tail.numel() > 0) {
    // rotflip turns the crop by quarter turns: a non-square image keeps its
    // shape only at 0 and 180 degrees (the reference would fail there).
    const auto img =
        data::load_image(ctx.train[ctx.tail[0].item<int64_t>()].path, ctx.plan.transform);
    spec = data::for_image_shape(spec, img.size(-2), img.size(-1));
    if (!spec.quarter_turns)
      core::log_warn(
          spec.name, " on ", img.size(-2), "x", img.size(-1), " (non-square) images: only the ",
          spec.views(),
          " views that keep the shape (flip, 180, 180 + flip), not the 90 and 270 degree ones");
  }
  const auto& f = ctx.train_features;
  const int64_t P = f.per_image();
  // The tail images' own rows first (ascending image order), then the views,
  // written as they come: at full scale the views outgrow memory (DESIGN
  // "Known hazards"), so no rank holds more than its unit of a round.
  const auto rows = (ctx.tail.view({-1, 1}) * P + torch::arange(P).view({1, -1})).flatten();
  const int64_t own_rows = rows.size(0);
  // Each rank holds its images' rows only (a contiguous run of `rows`).
  const int64_t first = ctx.train_first_row, local_rows = f.patches.size(0);
  const auto mine = rows.masked_select((rows >= first) & (rows < first + local_rows)) - first;
  // Every rank writes the rows it holds or computes to its shard
  // (feature_shards.h); tail_features.h5's /features is virtual over them.
  ShardedRowsWriter w(ctx.cache.path(name()), name(), ctx.cache.config_hash(), "features",
                      own_rows * (1 + spec.views()), f.patches.size(1), io::DType::kFloat32,
                      ctx.comm);
  // This rank's tail images' own rows, at their place among the own rows.
  const int64_t own_first = (rows < first).sum().item<int64_t>();
  w.append(f.patches.index_select(0, mine), own_first);
  ctx.source.tail_views(ctx.train, ctx.tail, spec, ctx.comm,
                        [&](const torch::Tensor& views, int64_t first_row) {
                          w.append(views, own_rows + first_row);
                        });
  if (auto* m = w.main()) {
    m->write("tail_indices", ctx.tail);
    m->set_attr("augment", spec.name);
    m->set_attr("views_per_image", spec.views());
  }
  w.commit();
}

}  // namespace

Stage tail_features_stage() {
  return {models::StageId::kTailFeatures,
          {models::StageId::kFeatures, models::StageId::kTail},
          false,
          run,
          nullptr};
}

}  // namespace tc::pipeline
