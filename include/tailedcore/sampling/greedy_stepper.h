// One rank's greedy k-center steps on the CPU, reading only the cells near
// each new centre (GreedyCells). A GPU runs its steps through
// greedy_device_loop.h instead; both give the same picks.
#pragma once

#include <cstdint>
#include <memory>

#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/greedy_cells.h"

namespace tc::sampling {

class GreedyStepper {
 public:
  /// rows [n, d] (kept by the caller): this rank's rows of the greedy.
  GreedyStepper(const float* rows, int64_t n, int64_t d);
  ~GreedyStepper();
  /// One step for the next centre [d]: as update_min_distances on all rows.
  BlockMax step(const float* centre, float* min_dist, int threads);
  /// What the steps cost on this rank.
  GreedyVisits visits() const;

  /// The state a checkpoint keeps (greedy_checkpoint.h): each row's nearest
  /// centre as its step index.
  void nearest_centres(int32_t* out) const;
  /// Puts the stepper where it was after `count` steps: `nearest` [rows] as
  /// nearest_centres() gave them (-1: unknown), `centres` [count, d] the
  /// centres of those steps in order, `min_dist` [rows] as restored.
  void restore(const int32_t* nearest, const float* centres, int64_t count, const float* min_dist);

 private:
  std::unique_ptr<GreedyCells> cells_;
};

}  // namespace tc::sampling
