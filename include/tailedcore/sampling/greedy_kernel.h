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

/// RotatedRows' coordinates per group (one 64-byte line of a row).
constexpr int64_t kRotatedGroup = 16;

/// rows [b, d] float32 contiguous, centre [d], min_dist [b] (updated in place:
/// min(min_dist[i], ||rows[i] - centre||_2)). Returns the block's largest
/// min_dist and its row (the first of equals; index -1 only when b == 0).
/// Parallel over rows with OpenMP: `threads` threads (<= 0: the calling
/// thread's team size); the result does not depend on the team size.
BlockMax update_min_distances_torch_order(const float* rows, int64_t b, int64_t d,
                                          const float* centre, float* min_dist, int threads = 0);

/// The rows in rotated coordinates, for a second bound that reads less than a
/// row: an orthonormal rotation about a point keeps every distance, and when
/// its first axes carry most of the spread (the rows' principal axes, as
/// GreedyStepper builds it), a partial sum of squared differences over the
/// first 16, 32, ... coordinates that already exceeds min_dist rules a row out
/// (measured on a 75,264-row TailedCore tail bank: 18 of 128 coordinates read
/// on average, the row itself 0.13 % of the time).
struct RotatedRows {
  /// The first first_groups groups of every row, eight rows at a time,
  /// coordinate-major: [ceil(b / 8), first_groups * 16, 8] (element (i, j) at
  /// ((i / 8) * first_groups * 16 + j) * 8 + i % 8; the last block
  /// zero-padded): what most visits read, eight rows in one vector a
  /// coordinate, no sum across a vector.
  const float* first = nullptr;
  int64_t first_groups = 0;
  /// The other groups, a group of every row after the other:
  /// [groups - first_groups, b, 16] (the last group zero-padded): read row by
  /// row, for the few rows the first groups keep.
  const float* rest = nullptr;
  int64_t groups = 0;             // ceil(d / 16)
  const float* centre = nullptr;  // [groups * 16]: the new centre, rotated alike (zero-padded)
  /// What the rotation's float rounding can move a distance by (rows rounded
  /// from float64 coordinates: 1e-6 of the largest rotated norm is far above it).
  float abs_margin = 0.f;
};

/// The same step, reading only the rows that can come closer. A row whose
/// nearest centre so far is `assigned[i]` (at min_dist[i]) is at least
/// centre_dist[assigned[i]] - min_dist[i] from the new centre (centre_dist[j]:
/// the new centre's distance to centre j), so when centre_dist[assigned[i]] >
/// 2 min_dist[i] (with a margin far above float32 rounding) it is not read.
/// Rows read get the torch-order distance, so min_dist and the returned
/// maximum are bit-identical to update_min_distances_torch_order's; rows that
/// come closer take `step` as their centre (assigned = -1: none yet).
/// rows_read (optional): how many rows were read. rotated (optional): rows the
/// first bound keeps are also tested by the rotated partial sums before
/// they are read; what is read and returned is unchanged.
BlockMax update_min_distances_pruned(const float* rows, int64_t b, int64_t d, const float* centre,
                                     float* min_dist, int32_t* assigned, const float* centre_dist,
                                     int32_t step, int threads = 0, int64_t* rows_read = nullptr,
                                     const RotatedRows* rotated = nullptr);

/// out[j] = ||centres[j] - centre|| for the [count, d] centres (the bound's
/// centre_dist: any summation order, the margin covers it).
void centre_distances(const float* centres, int64_t count, int64_t d, const float* centre, float* out);

}  // namespace tc::sampling
