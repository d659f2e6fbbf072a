// The greedy k-center step with the state pruning needs (greedy_kernel.h,
// update_min_distances_pruned): the centres so far and each row's nearest
// one. A step first measures the new centre against the earlier ones, which
// costs (centres x d) and pays while that is well under a pass over the
// rows; past that point (more centres than a quarter of the rows: ratios
// above 1/4, or many ranks) it runs the plain pass. Both give the same bits,
// so the greedy loops (greedy_coreset, greedy_coreset_sharded) call step()
// and never see which ran.
#pragma once

#include <cstdint>
#include <vector>

#include "tailedcore/sampling/coreset.h"

namespace tc::sampling {

class GreedyPruner {
 public:
  /// rows x d: this rank's rows of the greedy.
  GreedyPruner(int64_t rows, int64_t d);
  /// One step for the next centre [d]: as update_min_distances on all rows.
  BlockMax step(const float* rows, const float* centre, float* min_dist, int threads);
  /// Percent of row visits that read the row (100 when nothing was pruned).
  double read_percent() const;

 private:
  int64_t rows_, d_;
  std::vector<int32_t> assigned_;
  std::vector<float> centres_, centre_dist_;
  int64_t count_ = 0, read_ = 0, visited_ = 0;
  bool pruning_ = true;
};

}  // namespace tc::sampling
