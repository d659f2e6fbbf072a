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

#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "tailedcore/core/patch_grids.h"
#include "tailedcore/sampling/lof.h"

namespace tc::sampling {

/// For each group of images sharing a grid (grids.groups(), grids of every
/// image), this rank's patch positions of the group (dist::shard_range of its
/// h * w) over the group's images: [N_g, positions, d] float32, from every
/// rank's `local` rows (its images', image-major, ranks in order), each rank
/// projecting its own rows by proj_dim / seed first (0 or D: as given).
/// Collective (one all-to-all). One grid: one group of every image.
std::vector<at::Tensor> rows_by_position(const at::Tensor& local, const core::PatchGrids& grids,
                                         int64_t proj_dim, uint64_t seed, dist::Comm& comm);

/// LOF scores of per_pos [N, positions, d] (each position its own set):
/// [positions, N] float32. A set of one image scores 1, what LOF gives both
/// points of a set of two (each the other's only neighbour): no evidence
/// either way, a neutral SoftPatch weight, and the global keep quantile
/// decides as for any score.
at::Tensor lof_of_positions(const at::Tensor& per_pos, int64_t k, int cuda_device = -1);

/// Every rank's [positions_r, N_g] block of each group (positions in rank
/// order) -> [grids.rows()] image-major on every rank. Collective (one
/// all-gather a group).
at::Tensor gather_positions(const std::vector<at::Tensor>& local, const core::PatchGrids& grids,
                            dist::Comm& comm);

/// The grids of images of P patches each, whose rows are every rank's
/// `local` (a whole number of images each). Collective (one all-reduce).
core::PatchGrids grids_of_equal_images(const at::Tensor& local, int64_t P, dist::Comm& comm);

/// x [B, N, D] (read as float32, as the projected features are): B independent sets; returns [B, N]
/// float64 LOF scores (sklearn's -negative_outlier_factor_ of each set). cuda_device >= 0: the
/// float32 Gram products and the choice of candidates run on that GPU (local_outlier_factor_on),
/// which sends back only the candidates; the host re-ranks them in float64 either way.
at::Tensor local_outlier_factor_blocked(const at::Tensor& x, int64_t k, int cuda_device = -1);

/// The same scores with each row's candidates chosen by tensor operations on `device` (float32
/// distances, their k-th by kthvalue, the bound's mask, nonzero): the GPU path of
/// local_outlier_factor_blocked, run on the CPU by the tests. Candidates differ from the host
/// loop's only within the rounding bound, so the float64 neighbours are the same.
at::Tensor local_outlier_factor_on(const at::Tensor& x, int64_t k, c10::Device device);

}  // namespace tc::sampling
