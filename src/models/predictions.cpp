#include "tailedcore/models/predictions.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/eval/anomaly_map.h"
#include "tailedcore/eval/normalize.h"

namespace tc::models {

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

void accumulate_backbone(std::vector<ClassPredictions>& into,
                         const std::vector<ClassPredictions>& add, size_t backbones) {
  // Per class the normalisation spans all its images (maps: all its pixels).
  // It is monotone, so one backbone's metrics do not need it.
  if (backbones == 1) {
    into = add;
    return;
  }
  if (into.empty()) {
    into = add;
    for (auto& p : into) {
      p.image_scores = torch::zeros_like(p.image_scores);
      p.maps = torch::zeros_like(p.maps);
    }
  }
  TC_ASSERT(into.size() == add.size());
  const float w = 1.0f / static_cast<float>(backbones);
  for (size_t i = 0; i < into.size(); ++i) {
    into[i].image_scores = into[i].image_scores + w * eval::min_max_normalize(add[i].image_scores);
    into[i].maps = into[i].maps + w * eval::min_max_normalize(add[i].maps);
  }
}

}  // namespace tc::models
