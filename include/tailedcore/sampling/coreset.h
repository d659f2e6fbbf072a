// Greedy k-center coreset (SPEC 3.2): start from one row, then repeatedly take
// the row farthest (Euclidean, in the projected space) from everything chosen.
//
// Contract (distributed): collective over comm, same order on every rank.
// Each rank passes only its own block of the rows (blocks contiguous, in rank
// order, any size, 0 allowed; the whole set on one rank), projects it, and
// keeps its rows' min-distances; per step one fused collective carries every
// rank's best (value, global index, row), and the winner's row is the next
// centre. On the CPU (cuda_device -1) that is dist::max_loc_with_row, one host
// round trip a step; on a GPU the steps are queued on the device
// (greedy_device_loop.h) and the host waits once every kDevicePickBatch
// steps. The selection is identical for any number of ranks.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "tailedcore/sampling/greedy_checkpoint.h"
#include "tailedcore/sampling/options.h"

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

/// Device steps between two downloads of the picks: the host's one wait.
inline constexpr int64_t kDevicePickBatch = 4096;

/// What one greedy run moved and took.
struct GreedyStats {
  int64_t steps = 0;           // collectives of the step loop (centres - 1)
  int64_t steps_run = 0;       // of them in this call (fewer after a resume)
  int64_t bytes_per_step = 0;  // sent by each rank per step (received: that times ranks)
  double seconds = 0;          // the step loop's wall time
  // Row visits of the steps run, summed over the ranks (greedy_cells.h): a
  // pass over every row every step would visit rows x steps_run.
  int64_t rows = 0;              // of all ranks
  int64_t rows_visited = 0;      // rows whose min-distance a step tested
  int64_t rows_read = 0;         // rows whose distance to the new centre was computed
  int64_t centres_measured = 0;  // centre-to-centre distances (each a row's read)
  int64_t resumed_at = 0;        // picks restored from a checkpoint (0: none)
  int64_t checkpoints = 0;       // checkpoints this rank wrote
  int64_t checkpoint_bytes = 0;  // size of this rank's checkpoint file
  int64_t host_round_trips = 0;  // host waits of the step loop (CPU: one a step)
};

/// local [b, d] float32 (float16 is converted): this rank's block of the n
/// rows of all ranks, projected here by opts.proj_dim / opts.seed (the same
/// matrix on every rank). Returns int64 [m] global row indices in selection
/// order, m = max(1, int(n * ratio)), on every rank; the first is
/// first_centre(n, opts). With `checkpoint` enabled (host steps), the state
/// is written about every checkpoint.interval_seconds and a rerun resumes
/// from the newest complete checkpoint of the same greedy, with picks
/// identical to an uninterrupted run's (greedy_checkpoint.h).
at::Tensor greedy_coreset(const at::Tensor& local, const CoresetOptions& opts, dist::Comm& comm,
                          GreedyStats* stats = nullptr, const GreedyCheckpoint& checkpoint = {});

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
