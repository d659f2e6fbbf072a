// Patch-wise local outlier factor (SPEC 3.3), SoftPatch's noise filter: for
// each patch position independently, LOF over the images' projected features
// with sklearn's definition; patches scoring strictly below the 0.85 quantile
// (torch.quantile, linear interpolation) are kept.
//
// Contract (distributed): collective over comm; every rank passes the same
// full features; patch positions are sharded over ranks and the scores are
// all-gathered, so the result is identical for any number of ranks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct LofOptions {
  int64_t k = 6;               // neighbours (sklearn n_neighbors; k_eff = min(k, N - 1))
  double keep_quantile = 0.85; // keep scores strictly below this quantile
  int64_t proj_dim = 128;      // 0 = no projection
  uint64_t seed = 0;           // projection
  int cuda_device = -1;        // CUDA ordinal of the Gram products; -1 = host (same scores: see lof_blocked.h)
};

struct LofResult {
  at::Tensor scores;        // [N * P] float32, image-major (row = image * P + position)
  at::Tensor kept_indices;  // int64 ascending
};

/// features [N * P, D]; P = patches per image.
LofResult patchwise_lof(const at::Tensor& features, int64_t patches_per_image, const LofOptions& opts,
                        dist::Comm& comm);

/// Indices (ascending) of scores strictly below torch.quantile(scores, q).
at::Tensor keep_below_quantile(const at::Tensor& scores, double q);

}  // namespace tc::sampling
