// Stage tail_features (TailedCore): the tail images' patch rows, then the rows
// of their rotated/flipped views (tail_features.h5), the tail coreset's input.
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/pipeline/tail_view_groups.h"

namespace tc::pipeline {
namespace {

const std::string& name() { return kTailFeatures; }

// The tail images' shapes as the views start from them, from the file
// headers (every rank plans the same groups before any image is decoded).
std::vector<TailViewGroup> view_groups(const StageContext& ctx) {
  const auto& spec = ctx.plan.tail_augment;
  auto tf = ctx.plan.transform;
  if (spec.from_uncropped) tf.crop = data::kFullSize;
  std::vector<std::pair<int64_t, int64_t>> shapes;
  const auto t = ctx.tail.accessor<int64_t, 1>();
  for (int64_t k = 0; k < t.size(0); ++k) {
    const auto [w, h] = data::transformed_size(ctx.train[t[k]].path, tf);
    shapes.emplace_back(h, w);
  }
  const auto groups = tail_view_groups(ctx.tail, shapes, spec);
  // rotflip turns the crop by quarter turns: a non-square image keeps its
  // shape only at 0 and 180 degrees (the reference would fail there). Said once.
  std::string shapes_without_quarter_turns;
  for (const auto& g : groups)
    if (g.spec.views() != spec.views()) {
      const auto shape = std::to_string(g.h) + "x" + std::to_string(g.w);
      if (shapes_without_quarter_turns.find(shape) == std::string::npos)
        shapes_without_quarter_turns += (shapes_without_quarter_turns.empty() ? "" : ", ") + shape;
    }
  if (!shapes_without_quarter_turns.empty())
    core::log_warn(spec.name, " on non-square images (", shapes_without_quarter_turns,
                   "): only the 3 views that keep the shape (flip, 180, 180 + flip), not the 90 "
                   "and 270 degree ones");
  return groups;
}

void run(StageContext& ctx) {
  const auto groups = view_groups(ctx);
  const auto& f = ctx.train_shard;
  const auto& grids = ctx.train_grids;
  // The tail images' own rows first (ascending image order), then the views,
  // written as they come: at full scale the views outgrow memory (DESIGN
  // "Known hazards"), so no rank holds more than its unit of a round.
  std::vector<torch::Tensor> own;
  int64_t view_rows = 0;
  const auto t = ctx.tail.accessor<int64_t, 1>();
  for (int64_t k = 0; k < t.size(0); ++k)
    own.push_back(torch::arange(grids.row_begin(t[k]), grids.row_begin(t[k] + 1), torch::kInt64));
  // A view has its image's grid: rotflip keeps the shape, rot*flip the size.
  for (const auto& g : groups)
    for (const int64_t i : g.images) view_rows += grids.per_image(i) * g.spec.views();
  const auto rows = own.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(own);
  const int64_t own_rows = rows.size(0);
  // Each rank holds its images' rows only (a contiguous run of `rows`).
  const int64_t first = ctx.train_first_row, local_rows = f.patches.size(0);
  const auto mine = rows.masked_select((rows >= first) & (rows < first + local_rows)) - first;
  // Every rank writes the rows it holds or computes to its shard
  // (feature_shards.h); tail_features.h5's /features is virtual over them.
  ShardedRowsWriter w(ctx.cache.path(name()), name(), ctx.cache.config_hash(), "features",
                      own_rows + view_rows, f.patches.size(1), io::DType::kFloat32, ctx.comm);
  // This rank's tail images' own rows, at their place among the own rows.
  const int64_t own_first = (rows < first).sum().item<int64_t>();
  w.append(f.patches.index_select(0, mine), own_first);
  ctx.source.tail_views(groups, [&](const torch::Tensor& views, int64_t first_row) {
    w.append(views, own_rows + first_row);
  });
  if (auto* m = w.main()) {
    m->write("tail_indices", ctx.tail);
    m->set_attr("augment", ctx.plan.tail_augment.name);
    // One number when every tail image has as many views, else one per image (in /tail_indices'
    // order).
    bool same = true;
    for (const auto& g : groups) same = same && g.spec.views() == groups.front().spec.views();
    if (same) {
      m->set_attr("views_per_image",
                  groups.empty() ? ctx.plan.tail_augment.views() : groups.front().spec.views());
    } else {
      auto per = torch::empty({t.size(0)}, torch::kInt64);
      for (const auto& g : groups)
        for (const int64_t i : g.images) per[(ctx.tail < i).sum().item<int64_t>()] = g.spec.views();
      m->write("views_per_image", per);
    }
  }
  w.commit();
}

}  // namespace

Stage tail_features_stage() { return {kTailFeatures, {kFeatures, kTail}, false, run, nullptr}; }

}  // namespace tc::pipeline
