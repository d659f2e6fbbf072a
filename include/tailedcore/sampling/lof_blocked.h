// Patch-wise LOF, the fast path: same contract and numbers as the plain tensor
// formula (the tests' local_outlier_factor) -- sklearn's LocalOutlierFactor per
// patch position, float64 distances from the expanded form -- but the Gram
// products run in float32 (half the BLAS work) and each row's k nearest are
// picked by a partial selection from them, re-ranked in float64 among the
// candidates within a rounding bound of the float32 k-th, in parallel over
// (position, image), without [positions, N, N] distance/topk temporaries.
// Neighbours at equal distance are taken in index order.
#pragma once

#include <cstdint>

#include "tailedcore/sampling/lof.h"

namespace tc::sampling {

/// features [N * P, D] float32 (row = image * P + position). Collective over
/// comm (positions sharded, scores all-gathered): identical for any rank count.
LofResult patchwise_lof_blocked(const at::Tensor& features, int64_t patches_per_image,
                                const LofOptions& opts, dist::Comm& comm);

/// x [B, N, D] (read as float32, as the projected features are): B independent sets; returns [B, N] float64 LOF scores
/// (sklearn's -negative_outlier_factor_ of each set). cuda_device >= 0: the
/// float32 Gram products run on that GPU; they only rank candidates within a
/// rounding bound that holds for any summation order (the neighbours are
/// recomputed in float64 on the host), so the scores are the same.
/// LOF of this rank's patch positions, then the whole result on every rank:
/// per_pos [N, this rank's positions (dist::shard_range of P), D], projected
/// block by block by `projection` [D, d] (undefined: as given). Scores [N * P]
/// (row = image * P + position) and the rows kept, as patchwise_lof.
LofResult lof_of_rank_positions(const at::Tensor& per_pos, int64_t P, const at::Tensor& projection,
                                const LofOptions& opts, dist::Comm& comm);

at::Tensor local_outlier_factor_blocked(const at::Tensor& x, int64_t k, int cuda_device = -1);

}  // namespace tc::sampling
