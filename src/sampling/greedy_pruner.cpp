#include "tailedcore/sampling/greedy_pruner.h"

#include <limits>

#include "tailedcore/sampling/greedy_kernel.h"

namespace tc::sampling {

GreedyPruner::GreedyPruner(int64_t rows, int64_t d)
    : rows_(rows), d_(d), assigned_(static_cast<size_t>(rows), -1) {}

BlockMax GreedyPruner::step(const float* rows, const float* centre, float* min_dist, int threads) {
  pruning_ = pruning_ && count_ * 4 <= rows_ && count_ < std::numeric_limits<int32_t>::max();
  BlockMax bm;
  if (pruning_) {
    centre_dist_.resize(static_cast<size_t>(count_));
    centre_distances(centres_.data(), count_, d_, centre, centre_dist_.data());
    centres_.insert(centres_.end(), centre, centre + d_);
    int64_t read = 0;
    bm = update_min_distances_pruned(rows, rows_, d_, centre, min_dist, assigned_.data(), centre_dist_.data(),
                                     static_cast<int32_t>(count_), threads, &read);
    read_ += read;
  } else {
    if (!centres_.empty()) {  // the state is no longer kept
      centres_ = {};
      centre_dist_ = {};
      assigned_ = {};
    }
    bm = update_min_distances(rows, rows_, d_, centre, min_dist, threads);
    read_ += rows_;
  }
  visited_ += rows_;
  ++count_;
  return bm;
}

double GreedyPruner::read_percent() const {
  return visited_ > 0 ? 100.0 * static_cast<double>(read_) / static_cast<double>(visited_) : 100.0;
}

}  // namespace tc::sampling
