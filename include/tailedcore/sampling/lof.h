// Patch-wise local outlier factor (SPEC 3.3), SoftPatch's noise filter: for
// each patch position independently, LOF over the images' projected features
// with sklearn's definition; patches scoring strictly below the 0.85 quantile
// (torch.quantile, linear interpolation) are kept. Images of several patch
// grids (native sizes): a position is compared among the images that share
// its grid, and one quantile over all scores keeps the patches
// (DESIGN.md "Mixed native sizes").
//
// Contract (distributed): collective over comm. Each rank passes the rows of
// its own images (blocks of whole images, contiguous, in rank order; the whole
// set on one rank) and projects them; one all-to-all (Comm::alltoallv) sends
// every rank its patch positions (dist::shard_range of P) over all images, LOF
// runs per position, and the [N * P] scores (one float a row) are
// all-gathered: every rank gets the whole result, the same for any number of
// ranks.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "tailedcore/core/patch_grids.h"
#include "tailedcore/sampling/options.h"

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct LofResult {
  at::Tensor scores;        // [N * P] float32, image-major (row = image * P + position)
  at::Tensor kept_indices;  // int64 ascending
};

/// local: this rank's images' rows (image-major, [rows, D]); grids: every
/// image's patch grid (all ranks' images). kept_indices are global rows.
LofResult patchwise_lof(const at::Tensor& local, const core::PatchGrids& grids,
                        const LofOptions& opts, dist::Comm& comm);
/// Every image of P patches (the one-grid case): local [n_r * P, D].
LofResult patchwise_lof(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                        dist::Comm& comm);

/// Indices (ascending) of scores strictly below torch.quantile(scores, q).
at::Tensor keep_below_quantile(const at::Tensor& scores, double q);

}  // namespace tc::sampling
