// Patch scores against a memory bank, image scores and anomaly maps (SPEC 5.4).
#pragma once

#include <cstdint>
#include <memory>

#include <ATen/core/Tensor.h>

#include "tailedcore/index/nearest.h"
#include "tailedcore/models/memory_bank.h"

namespace tc::models {

class Scorer {
 public:
  Scorer(MemoryBank bank, const index::IndexOptions& opts);

  /// patches [n, D] -> [n] float32: the mean over the k nearest bank rows of
  /// the squared L2 distance, each times that row's weight when the bank is
  /// weighted (SoftPatch). With k = 1 this is the reference's score exactly.
  at::Tensor score_patches(const at::Tensor& patches) const;
  const MemoryBank& bank() const { return bank_; }

 private:
  MemoryBank bank_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

struct Predictions {
  at::Tensor image_scores;  // [n] float32: max patch score of each image
  at::Tensor maps;          // [n, H, W] float32 anomaly maps
};

/// patch_scores [n * h * w] in image-major, row-major order -> image scores
/// and maps upsampled to out_h x out_w and Gaussian-smoothed (sigma 4).
Predictions to_predictions(const at::Tensor& patch_scores, int64_t n, int64_t h, int64_t w,
                           int64_t out_h, int64_t out_w);

}  // namespace tc::models
