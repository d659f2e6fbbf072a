// Patch-wise class sizes for TailedLOF (SPEC 3.5; the reference's
// class_size._sample_patchwise_few_shot with return_class_sizes=True): for each
// patch position p, the self-similarity of the N images' patch-p features, a
// scalar threshold (thresholds.h) with the within-image factor f = 2, and the
// mean vote.
//
// Contract (distributed): collective over comm, as patchwise_lof (lof.h):
// each rank passes its own images' rows; the rows travel by patch position
// (lof_blocked.h rows_by_position), each rank computes its positions (one
// N x N product each, the reference's own shape) and the results are
// all-gathered: the same for any rank count.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

enum class Threshold;

/// Fails (naming `where`) unless `rule` has patch-wise class sizes: symmin,
/// symavg or indep, the scalar thresholds (the reference raises
/// NotImplementedError for the others).
void check_patchwise(Threshold rule, const std::string& where);

/// per_pos [N, positions, C] (rows_by_position): [positions, N] float32 class
/// sizes; NaN where no image votes.
at::Tensor class_sizes_of_positions(const at::Tensor& per_pos, Threshold rule);

/// local [n_r * P, C] float32: this rank's images' rows, image-major. Returns
/// [N * P] float32 class sizes of every row, image-major, on every rank.
at::Tensor patchwise_class_sizes(const at::Tensor& local, int64_t patches_per_image, Threshold rule,
                                 dist::Comm& comm);

}  // namespace tc::sampling
