// Anomaly maps from patch scores (SPEC 5.4): bilinear upsampling with
// align_corners=False, then scipy.ndimage.gaussian_filter(sigma=4, truncate=4,
// mode="reflect"), separable, axis 0 then axis 1.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tc::eval {

/// patch_scores [n, h, w] -> [n, out_h, out_w] float32.
at::Tensor patch_scores_to_maps(const at::Tensor& patch_scores, int64_t out_h, int64_t out_w,
                                double sigma = 4.0);

/// scipy.ndimage.gaussian_filter on [n, H, W] over the last two axes.
at::Tensor gaussian_blur(const at::Tensor& maps, double sigma, double truncate = 4.0);

}  // namespace tc::eval
