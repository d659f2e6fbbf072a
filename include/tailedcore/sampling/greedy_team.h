// The thread count of each greedy step, chosen from measured step times.
//
// A greedy step is short (about 0.3-1 ms on a 21,168 x 128 bank) and ends in
// a barrier: when another process keeps one of the cores busy, a team of two
// waits at every step for its descheduled thread, and the greedy ran 7x slower
// with 2 threads than with 1 (14.2 s against 2.05 s). So the loop times its
// steps in blocks and runs them with the team size whose recent blocks cost
// less per step (the mean, which counts the stalls): one thread or all of
// them, the team only when it is clearly (15 %) faster. The other size is re-timed by a short block now and then (more
// rarely while it keeps losing), so a change of load is followed.
// The selection does not depend on the team size (the kernel's ranges and its
// first-of-equals merge give the same row for any team).
#pragma once

#include <array>
#include <cstdint>

namespace tc::sampling {

class GreedyTeam {
 public:
  /// max_threads: the largest team (the caller's OpenMP team size); work:
  /// rows x dim of one step. Steps below kMinParallelWork always run on one thread.
  GreedyTeam(int max_threads, int64_t work);

  /// The team size for the next step.
  int next();
  /// The wall time of the step next() sized.
  void record(double seconds);
  /// The size that currently costs less (1 before anything was measured).
  int threads() const;

  static constexpr int64_t kMinParallelWork = int64_t{1} << 16;
  static constexpr int64_t kBlockSteps = 16;      // steps timed together on the running size
  static constexpr int64_t kProbeSteps = 4;       // steps of a re-timing of the other size
  static constexpr int64_t kWarmSteps = 8;        // the first block of each size
  static constexpr int64_t kFirstInterval = 4;    // blocks between re-timings after a change
  static constexpr int64_t kLongestInterval = 128;

 private:
  struct History {  // the last blocks' mean seconds per step
    std::array<double, 3> mean{};
    int count = 0;
    void add(double v) { mean[count++ % 3] = v; }
    double cost() const;  // mean of the kept blocks
  };
  void finish_block();
  double cost(int arm) const;  // its history's cost, the team's with a margin
  int arm_threads(int arm) const { return arm == 0 ? 1 : max_threads_; }

  int max_threads_;
  std::array<History, 2> history_;  // [0]: one thread, [1]: max_threads
  int current_ = 0;                 // the size that runs
  int arm_ = 0;                     // the size of the block in progress
  int64_t block_left_ = 0, block_len_ = 0;
  double block_sum_ = 0;
  int64_t interval_ = kFirstInterval, since_probe_ = 0;  // in blocks
};

}  // namespace tc::sampling
