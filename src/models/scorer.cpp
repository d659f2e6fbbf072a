#include "tailedcore/models/scorer.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/eval/anomaly_map.h"

namespace tc::models {

Scorer::Scorer(MemoryBank bank, const index::IndexOptions& opts)
    : bank_(std::move(bank)), nn_(std::make_unique<index::NearestNeighbors>(bank_.features, opts)) {}

at::Tensor Scorer::score_patches(const at::Tensor& patches) const {
  const auto found = nn_->search(patches);
  torch::Tensor d = found.distances;  // [n, k] squared L2
  if (bank_.weights.defined()) d = d * bank_.weights.index_select(0, found.indices.flatten()).view_as(d);
  return d.mean(1);
}

Predictions to_predictions(const at::Tensor& patch_scores, int64_t n, int64_t h, int64_t w,
                           int64_t out_h, int64_t out_w) {
  TC_CHECK(patch_scores.numel() == n * h * w, "patch scores hold ", patch_scores.numel(),
           " values: expected ", n, " images x ", h, " x ", w);
  const auto grid = patch_scores.view({n, h, w}).to(torch::kFloat32);
  Predictions p;
  p.image_scores = std::get<0>(grid.flatten(1).max(1));
  p.maps = eval::patch_scores_to_maps(grid, out_h, out_w);
  return p;
}

}  // namespace tc::models
