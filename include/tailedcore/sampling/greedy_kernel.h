// The greedy k-center step with distances bit-identical to the reference's
// torch.norm(P - P[last], dim=1) on a CPU (LibTorch 1.13, AVX2 dispatch):
// 8 fused-multiply-add lane accumulators, lanes added left to right, tail
// fused-added, sqrt in float32 (see src/sampling/greedy_step.cpp). Same
// contract as update_min_distances in coreset.h, which sums in another order
// and so can pick a different row when two candidates tie to within an ulp.
#pragma once

#include <cstdint>

#include "tailedcore/sampling/coreset.h"

namespace tc::sampling {

/// rows [b, d] float32 contiguous, centre [d], min_dist [b] (updated in place:
/// min(min_dist[i], ||rows[i] - centre||_2)). Returns the block's largest
/// min_dist and its row (the first of equals; index -1 only when b == 0).
/// Parallel over rows with OpenMP: `threads` threads (<= 0: the calling
/// thread's team size); the result does not depend on the team size.
BlockMax update_min_distances_torch_order(const float* rows, int64_t b, int64_t d,
                                          const float* centre, float* min_dist, int threads = 0);

/// out[i] = ||rows[idx[i]] - centre||_2 for the n listed rows of rows [*, d],
/// in the same order as update_min_distances_torch_order (bit-identical
/// values), on the calling thread.
void distances_torch_order(const float* rows, int64_t d, const int32_t* idx, int64_t n,
                           const float* centre, float* out);

/// ||a - b||_2 of two [d] vectors in the same order (for bounds: any order
/// would do, their margins cover float32 rounding).
float distance_torch_order(const float* a, const float* b, int64_t d);

}  // namespace tc::sampling
