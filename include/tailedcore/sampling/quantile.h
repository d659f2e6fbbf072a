// torch.quantile(values, q) with its default 'linear' interpolation, for any
// number of values: torch refuses more than 2^24, which a full-resolution
// LOF's keep rule passes.
#pragma once

#include <ATen/core/Tensor.h>

namespace tc::sampling {

/// The q-quantile of all elements of `values` (float32 or float64, any shape;
/// read on the host), bit for bit torch.quantile(values, q) wherever torch
/// computes one. As torch:
///   q is first rounded to the values' dtype; rank = q * (n - 1) in that dtype;
///   the result is torch::lerp(v[floor(rank)], v[ceil(rank)], rank - floor(rank))
///   in that dtype, v[k] being the k-th smallest value (0-based).
/// Past n - 1 = 2^24, where float32 cannot hold every rank (and torch refuses),
/// the rank is q * (n - 1) in float64 and only the weight is rounded to the dtype.
/// Any NaN makes the result NaN (torch: NaN sorts last and moves the rank there).
/// The order statistics are selected (nth_element) on a copy, not sorted:
/// O(n) time, n values of extra memory. Returns the dtype's value as a double.
double linear_quantile(const at::Tensor& values, double q);

}  // namespace tc::sampling
