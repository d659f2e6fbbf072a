// Sampling over rows sharded across ranks (DESIGN.md "Distribution": no rank
// holds the whole bank). Each rank passes only its own block of the global
// rows; blocks are contiguous and in rank order (rank 0's rows first), of any
// size (0 allowed). Results are those of the whole-bank functions
// (greedy_coreset, patchwise_lof) on the concatenated rows, for any number of
// ranks; the tests compare them.
//
// Contract: collective over comm, same order on every rank.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

/// What one sharded greedy run moved and took.
struct GreedyShardStats {
  int64_t steps = 0;           // collectives of the step loop (centres - 1)
  int64_t bytes_per_step = 0;  // sent by each rank per step (received: that times ranks)
  double seconds = 0;          // the step loop's wall time
};

/// Greedy k-center over sharded rows: `local` [b, d] float32 are this rank's
/// rows as the greedy sees them (already projected: opts.proj_dim is not
/// applied). centres = max(1, int(n * ratio)) of the n rows of all ranks; the
/// first is first_centre(n, opts). Per step each rank updates its own min
/// distances and one fused collective (dist::max_loc_with_row) carries
/// every rank's best (value, global index, row): the winner's row is the next
/// centre, one round trip a step. Returns int64 [m] global row indices in
/// selection order, on every rank.
at::Tensor greedy_coreset_sharded(const at::Tensor& local, const CoresetOptions& opts, dist::Comm& comm,
                                  GreedyShardStats* stats = nullptr);

/// Patch-wise LOF of images sharded over ranks: `local` [n_r * P, D] are the
/// rows of this rank's images (image-major), the images of all ranks in rank
/// order make the whole set. Each rank projects its own rows, an all-to-all
/// sends every rank the projected rows of its patch positions over all
/// images (dist::shard_range(P)), LOF runs per position, and the [N * P]
/// scores (small: one float a row) are all-gathered. kept_indices are global.
LofResult patchwise_lof_sharded(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                                dist::Comm& comm);

}  // namespace tc::sampling
