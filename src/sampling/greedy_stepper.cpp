#include "tailedcore/sampling/greedy_stepper.h"

#include <algorithm>

#include "tailedcore/sampling/greedy_device.h"

namespace tc::sampling {

GreedyStepper::GreedyStepper(const float* rows, int64_t n, int64_t d, int cuda_device) : rows_(n) {
  if (cuda_device >= 0 && n > 0)
    device_ = std::make_unique<GreedyDeviceBlock>(rows, n, d, cuda_device);
  else
    cells_ = std::make_unique<GreedyCells>(rows, n, d);
}

GreedyStepper::~GreedyStepper() = default;

BlockMax GreedyStepper::step(const float* centre, float* min_dist, int threads) {
  if (!device_) return cells_->step(centre, min_dist, threads);
  const DeviceBlockMax dm = device_->update(centre);
  ++device_visits_.steps;
  device_visits_.rows_visited += rows_;
  device_visits_.rows_read += rows_;
  return {dm.value, dm.index};
}

GreedyVisits GreedyStepper::visits() const { return device_ ? device_visits_ : cells_->visits(); }

void GreedyStepper::nearest_centres(int32_t* out) const {
  if (device_)
    std::fill(out, out + rows_, -1);
  else
    std::copy(cells_->nearest().begin(), cells_->nearest().end(), out);
}

void GreedyStepper::restore(const int32_t* nearest, const float* centres, int64_t count,
                            const float* min_dist) {
  if (cells_) cells_->restore(nearest, centres, count, min_dist);
}

}  // namespace tc::sampling
