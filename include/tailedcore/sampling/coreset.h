// Greedy k-center coreset (SPEC 3.2): start from one row, then repeatedly take
// the row farthest (Euclidean, in the projected space) from everything chosen.
//
// Contract (distributed): collective over comm; every rank passes the same
// full `features`; each rank projects and updates only its block of rows
// (dist::shard_range), and one max_loc reduction per step picks the next
// centre (ties to the lowest global index), whose owner broadcasts its row.
// The sequence is identical for any number of ranks.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct CoresetOptions {
  double ratio = 0.1;         // centres = max(1, int(n * ratio))
  int64_t proj_dim = 128;     // 0 = no projection
  int64_t start_index = -1;   // first centre; -1 = drawn from `seed`
  uint64_t seed = 0;          // projection and first centre
  int cuda_device = -1;       // CUDA ordinal of the min-distance update (GreedyDeviceBlock); -1 = host
};

/// features [n, d] float32 (float16 is converted). Returns int64 [m] row
/// indices in selection order.
at::Tensor greedy_coreset(const at::Tensor& features, const CoresetOptions& opts, dist::Comm& comm);

/// The first centre drawn from the seed when start_index is -1.
int64_t first_centre(int64_t n, const CoresetOptions& opts);

/// One greedy step on a block of rows, fused: min_dist[i] = min(min_dist[i],
/// ||rows[i] - centre||) and the (value, index) of the block's largest
/// min_dist (first of equals). rows [b, d] float32 contiguous.
struct BlockMax {
  float value;
  int64_t index;  // within the block; -1 for an empty block
};
/// `threads`: the OpenMP team (<= 0: the caller's team size); the result
/// does not depend on it.
BlockMax update_min_distances(const float* rows, int64_t b, int64_t d, const float* centre,
                              float* min_dist, int threads = 0);

}  // namespace tc::sampling
