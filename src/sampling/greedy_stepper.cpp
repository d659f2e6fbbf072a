#include "tailedcore/sampling/greedy_stepper.h"

#include <algorithm>

namespace tc::sampling {

GreedyStepper::GreedyStepper(const float* rows, int64_t n, int64_t d)
    : cells_(std::make_unique<GreedyCells>(rows, n, d)) {}

GreedyStepper::~GreedyStepper() = default;

BlockMax GreedyStepper::step(const float* centre, float* min_dist, int threads) {
  return cells_->step(centre, min_dist, threads);
}

GreedyVisits GreedyStepper::visits() const { return cells_->visits(); }

void GreedyStepper::nearest_centres(int32_t* out) const {
  std::copy(cells_->nearest().begin(), cells_->nearest().end(), out);
}

void GreedyStepper::restore(const int32_t* nearest, const float* centres, int64_t count,
                            const float* min_dist) {
  cells_->restore(nearest, centres, count, min_dist);
}

}  // namespace tc::sampling
