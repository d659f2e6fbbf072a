// TailedLOF (SPEC 3.5; the reference's TailedLOFSampler), TailedCore's noise
// filter for the head when `tail_lof: true`: each patch's LOF score times its
// few-shot score 1 - cs / max(cs), with cs the patch-wise class sizes
// (class_size_patchwise.h), both on the same projected features. Patches whose
// product is strictly below the keep quantile are kept, so the patches of
// small classes (few-shot score near 0) survive the filter that would drop
// them as outliers.
//
// Contract (distributed): collective over comm, like patchwise_lof.
#pragma once

#include <cstdint>
#include <string>

#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/thresholds.h"

namespace tc::sampling {

/// local: this rank's images' rows and grids every image's grid (as patchwise_lof); rule:
/// symmin | symavg | indep (check_patchwise: the reference has no other patch-wise threshold).
/// Returns the products as `scores` (float32, image-major) and the kept rows. Several grids: the
/// LOF and the class sizes of a position are among the images of its grid, the few-shot score's
/// max(cs) and the keep quantile over all rows.
LofResult tailed_lof(const at::Tensor& local, const core::PatchGrids& grids, const LofOptions& opts,
                     Threshold rule, dist::Comm& comm);
/// Every image of P patches (the one-grid case): local [n_r * P, D].
LofResult tailed_lof(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                     Threshold rule, dist::Comm& comm);

}  // namespace tc::sampling
