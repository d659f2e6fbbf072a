// One rank's greedy k-center steps: on its GPU (GreedyDeviceBlock: the rows
// uploaded once, one host round trip a step) when the options name one, else
// on the CPU reading only the cells near each new centre (GreedyCells). Both
// give the same picks, so the greedy loop (greedy_coreset) calls step() and
// never sees which ran.
#pragma once

#include <cstdint>
#include <memory>

#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/greedy_cells.h"

namespace tc::sampling {

class GreedyDeviceBlock;

class GreedyStepper {
 public:
  /// rows [n, d] (kept by the caller): this rank's rows of the greedy;
  /// cuda_device >= 0: run the steps on that GPU.
  GreedyStepper(const float* rows, int64_t n, int64_t d, int cuda_device = -1);
  ~GreedyStepper();
  /// One step for the next centre [d]: as update_min_distances on all rows
  /// (min_dist is the host copy's; on a GPU the device keeps its own).
  BlockMax step(const float* centre, float* min_dist, int threads);
  /// What the steps cost on this rank (on a GPU every step visits and reads every row).
  GreedyVisits visits() const;

  /// The state a checkpoint keeps (greedy_checkpoint.h): each row's nearest
  /// centre as its step index. False on a GPU: its min-distances stay on the device.
  bool can_checkpoint() const { return !device_; }
  void nearest_centres(int32_t* out) const;
  /// Puts the stepper where it was after `count` steps: `nearest` [rows] as
  /// nearest_centres() gave them (-1: unknown), `centres` [count, d] the
  /// centres of those steps in order, `min_dist` [rows] as restored.
  void restore(const int32_t* nearest, const float* centres, int64_t count, const float* min_dist);
  /// Whether restore() reads `centres` (else it may be empty).
  bool needs_centres() const { return !device_; }

 private:
  int64_t rows_;
  std::unique_ptr<GreedyDeviceBlock> device_;
  std::unique_ptr<GreedyCells> cells_;
  GreedyVisits device_visits_;
};

}  // namespace tc::sampling
