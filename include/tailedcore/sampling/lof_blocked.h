// Patch-wise LOF, the fast path: same contract and numbers as patchwise_lof
// (lof.h) -- sklearn's LocalOutlierFactor per patch position, distances in
// float64 from the same expanded form -- but the k nearest neighbours are
// picked by a per-row partial selection straight from the Gram matrix, in
// parallel over (position, image), without materialising [positions, N, N]
// distance/topk temporaries. Neighbours at equal distance are taken in index
// order.
#pragma once

#include <cstdint>

#include "tailedcore/sampling/lof.h"

namespace tc::sampling {

/// features [N * P, D] float32 (row = image * P + position). Collective over
/// comm (positions sharded, scores all-gathered): identical for any rank count.
LofResult patchwise_lof_blocked(const at::Tensor& features, int64_t patches_per_image,
                                const LofOptions& opts, dist::Comm& comm);

/// x [B, N, D]: B independent sets; returns [B, N] float64 LOF scores
/// (what local_outlier_factor in lof.h returns).
at::Tensor local_outlier_factor_blocked(const at::Tensor& x, int64_t k);

}  // namespace tc::sampling
