// The pieces of patch-wise LOF (lof.h) that TailedLOF shares: the exchange
// that gives each rank its patch positions over all images, the LOF kernel
// per position, and the gather of per-position results.
//
// The kernel has the contract and numbers of the plain tensor formula (the
// tests' local_outlier_factor) -- sklearn's LocalOutlierFactor per patch
// position, float64 distances from the expanded form -- but the Gram products
// run in float32 (half the BLAS work) and each row's k nearest are picked by a
// partial selection from them, re-ranked in float64 among the candidates
// within a rounding bound of the float32 k-th, in parallel over (position,
// image), without [positions, N, N] distance/topk temporaries. Neighbours at
// equal distance are taken in index order.
#pragma once

#include <cstdint>

#include "tailedcore/sampling/lof.h"

namespace tc::sampling {

/// This rank's patch positions (dist::shard_range of P) of every image:
/// [N, positions, d] float32, from every rank's `local` [n_r * P, D] rows
/// (image-major, ranks in order), each rank projecting its own rows by
/// proj_dim / seed first (0 or D: as given). Collective (one all-to-all).
at::Tensor rows_by_position(const at::Tensor& local, int64_t P, int64_t proj_dim, uint64_t seed,
                            dist::Comm& comm);

/// LOF scores of per_pos [N, positions, d] (each position its own set):
/// [positions, N] float32.
at::Tensor lof_of_positions(const at::Tensor& per_pos, int64_t k, int cuda_device = -1);

/// Every rank's [positions_r, N] block (positions in rank order) -> [N * P]
/// image-major on every rank. Collective (one all-gather).
at::Tensor gather_positions(const at::Tensor& local, int64_t P, dist::Comm& comm);

/// x [B, N, D] (read as float32, as the projected features are): B independent sets; returns [B, N]
/// float64 LOF scores (sklearn's -negative_outlier_factor_ of each set). cuda_device >= 0: the
/// float32 Gram products run on that GPU; they only rank candidates within a
/// rounding bound that holds for any summation order (the neighbours are
/// recomputed in float64 on the host), so the scores are the same.
at::Tensor local_outlier_factor_blocked(const at::Tensor& x, int64_t k, int cuda_device = -1);

}  // namespace tc::sampling
