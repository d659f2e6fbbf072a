// A model's output on one test class: image scores and anomaly maps (SPEC 5.4),
// with the labels and masks the metrics compare them to.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tc::models {

struct ClassPredictions {
  std::string class_name;
  at::Tensor image_scores;  // [n] float32
  at::Tensor maps;          // [n, H, W] float32
  at::Tensor labels;        // [n] uint8
  at::Tensor masks;         // [n, H, W] uint8 {0,1}
  std::vector<std::string> image_paths;
};

struct Predictions {
  at::Tensor image_scores;  // [n] float32: max patch score of each image
  at::Tensor maps;          // [n, H, W] float32 anomaly maps
};

/// patch_scores [n * h * w] in image-major, row-major order -> image scores
/// and maps upsampled to out_h x out_w and Gaussian-smoothed (sigma 4).
Predictions to_predictions(const at::Tensor& patch_scores, int64_t n, int64_t h, int64_t w,
                           int64_t out_h, int64_t out_w);

/// Adds one of `backbones` backbones' predictions: with several, each class's
/// image scores and maps are min-max normalised and averaged (SPEC 5.5); one
/// backbone keeps its raw scores.
void accumulate_backbone(std::vector<ClassPredictions>& into,
                         const std::vector<ClassPredictions>& add, size_t backbones);

}  // namespace tc::models
