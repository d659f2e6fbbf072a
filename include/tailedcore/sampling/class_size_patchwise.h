// Patch-wise class sizes for TailedLOF (SPEC 3.5; the reference's
// class_size._sample_patchwise_few_shot with return_class_sizes=True): for each
// patch position p, the self-similarity of the N images' patch-p features, a
// scalar threshold (thresholds.h) with the within-image factor f = 2, and the
// mean vote.
//
// Contract (distributed): collective over comm; every rank passes the same
// full features. Patch positions are sharded over the ranks in contiguous
// blocks and the per-position results all-gathered: every rank gets the whole
// result, identical for any rank count (each position is one N x N product,
// the reference's own shape).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

/// features: [N * P, C] float32, image-major (rows i*P .. i*P+P-1 are image
/// i's patches). th_type: symmin | symavg | indep (the only scalar thresholds
/// the reference has; others throw tc::Error, as its NotImplementedError).
/// Returns [N * P] float32 class sizes, image-major; NaN where no image votes.
at::Tensor patchwise_class_sizes(const at::Tensor& features, int64_t patches_per_image,
                                 const std::string& th_type, dist::Comm& comm);

}  // namespace tc::sampling
