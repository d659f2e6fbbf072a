#include "tailedcore/sampling/greedy_team.h"

#include <algorithm>

namespace tc::sampling {

// The team must beat one thread by kTeamMargin to run: on a noisy, loaded
// machine a lucky block of the team would otherwise win and cost stalls.
constexpr double kTeamMargin = 1.15;

double GreedyTeam::History::cost() const {
  const int n = std::min(count, 3);
  double s = 0;
  for (int i = 0; i < n; ++i) s += mean[i];
  return n ? s / n : 0.0;
}

double GreedyTeam::cost(int arm) const { return history_[arm].cost() * (arm == 1 ? kTeamMargin : 1.0); }

GreedyTeam::GreedyTeam(int max_threads, int64_t work)
    : max_threads_(work >= kMinParallelWork ? std::max(1, max_threads) : 1) {}

int GreedyTeam::next() {
  if (max_threads_ == 1) return 1;
  if (block_left_ == 0) {
    // A new block: each size once first, then the running size, and every
    // interval_ blocks a short re-timing of the other.
    if (history_[0].count == 0 || history_[1].count == 0) {
      arm_ = history_[0].count == 0 ? 0 : 1;
      block_len_ = kWarmSteps;
    } else if (since_probe_ >= interval_) {
      since_probe_ = 0;
      arm_ = 1 - current_;
      block_len_ = kProbeSteps;
    } else {
      arm_ = current_;
      block_len_ = kBlockSteps;
    }
    block_left_ = block_len_;
    block_sum_ = 0;
  }
  return arm_threads(arm_);
}

void GreedyTeam::record(double seconds) {
  if (max_threads_ == 1) return;
  block_sum_ += seconds;
  if (--block_left_ == 0) finish_block();
}

void GreedyTeam::finish_block() {
  const double per_step = block_sum_ / static_cast<double>(block_len_);
  const bool warm = history_[0].count > 0 && history_[1].count > 0;
  if (!warm) {
    history_[arm_].add(per_step);
    if (history_[0].count > 0 && history_[1].count > 0)
      current_ = cost(0) <= cost(1) ? 0 : 1;
    return;
  }
  if (arm_ != current_) {
    // A re-timing of the other size: its older blocks may be stale (the load
    // changed since), so a win switches at once and starts its history anew.
    if (per_step * (arm_ == 1 ? kTeamMargin : 1.0) < cost(current_)) {
      history_[arm_] = History{};
      history_[arm_].add(per_step);
      current_ = arm_;
      interval_ = kFirstInterval;
    } else {
      history_[arm_].add(per_step);
      interval_ = std::min(kLongestInterval, interval_ * 2);  // it lost again
    }
    return;
  }
  history_[current_].add(per_step);
  ++since_probe_;
  if (cost(current_) > cost(1 - current_)) {  // it got slower (load arrived)
    current_ = 1 - current_;
    interval_ = kFirstInterval;
    since_probe_ = 0;
  }
}

int GreedyTeam::threads() const { return arm_threads(current_); }

}  // namespace tc::sampling
