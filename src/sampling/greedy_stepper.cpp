#include "tailedcore/sampling/greedy_stepper.h"

#include <limits>

#include "tailedcore/sampling/greedy_device.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_team.h"

namespace tc::sampling {

GreedyStepper::GreedyStepper(const float* rows, int64_t n, int64_t d, int cuda_device)
    : data_(rows), rows_(n), d_(d), last_read_(n) {
  if (cuda_device >= 0 && n > 0) device_ = std::make_unique<GreedyDeviceBlock>(rows, n, d, cuda_device);
  else assigned_.assign(static_cast<size_t>(n), -1);
}

GreedyStepper::~GreedyStepper() = default;

BlockMax GreedyStepper::step(const float* centre, float* min_dist, int threads) {
  const float* rows = data_;
  if (device_) {
    const DeviceBlockMax dm = device_->update(centre);
    visited_ += rows_;
    read_ += rows_;
    return {dm.value, dm.index};
  }
  pruning_ = pruning_ && count_ * 4 <= rows_ && count_ < std::numeric_limits<int32_t>::max();
  BlockMax bm;
  if (pruning_) {
    centre_dist_.resize(static_cast<size_t>(count_));
    centre_distances(centres_.data(), count_, d_, centre, centre_dist_.data());
    centres_.insert(centres_.end(), centre, centre + d_);
    // A team only when the last step read enough rows to be worth waking it:
    // once most rows are pruned a step is tens of microseconds, less than a
    // wake-up, and on a loaded machine a team waits for its descheduled thread.
    if (last_read_ * d_ < GreedyTeam::kMinParallelWork) threads = 1;
    int64_t read = 0;
    bm = update_min_distances_pruned(rows, rows_, d_, centre, min_dist, assigned_.data(), centre_dist_.data(),
                                     static_cast<int32_t>(count_), threads, &read);
    read_ += read;
    last_read_ = read;
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

double GreedyStepper::read_percent() const {
  return visited_ > 0 ? 100.0 * static_cast<double>(read_) / static_cast<double>(visited_) : 100.0;
}

}  // namespace tc::sampling
