// GreedyTeam picks each step's team size from measured step times: fed the
// times of a loaded machine (a team of two waits for its descheduled thread)
// it runs on one thread, on an idle one it runs the full team, and it follows
// a change of load. The kernel's result does not depend on the team size.
#include "tailedcore/sampling/greedy_team.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <limits>
#include <vector>

#include "tailedcore/sampling/greedy_kernel.h"

using tc::sampling::GreedyTeam;

namespace {

constexpr int64_t kWork = 21168 * 128;  // the bank: 27 images x 784 positions x 128

// Runs `steps` steps whose time is seconds_of(team size, step); returns how
// many steps ran on more than one thread.
int64_t steps_on_the_full_team(GreedyTeam& team, int64_t first, int64_t steps,
                               const std::function<double(int, int64_t)>& seconds_of) {
  int64_t full = 0;
  for (int64_t s = first; s < first + steps; ++s) {
    const int t = team.next();
    full += t > 1;
    team.record(seconds_of(t, s));
  }
  return full;
}

TEST(GreedyTeam, OneThreadWhenTheTeamIsSlowerUnderLoad) {
  GreedyTeam team(2, kWork);
  // The measurement: 1 ms a step on one thread, ~6.7 ms with two.
  const int64_t full = steps_on_the_full_team(team, 0, 2000, [](int t, int64_t) { return t > 1 ? 6.7e-3 : 1e-3; });
  EXPECT_EQ(team.threads(), 1);
  // The first block (8 steps) plus short re-timings (4 steps) at doubling
  // intervals: after 4, 8, 16, 32 and 64 blocks of 16 steps.
  EXPECT_LE(full, GreedyTeam::kWarmSteps + 5 * GreedyTeam::kProbeSteps) << "steps on two threads out of 2000";
}

TEST(GreedyTeam, FullTeamWhenItIsFaster) {
  GreedyTeam team(2, kWork);
  const int64_t full = steps_on_the_full_team(team, 0, 2000, [](int t, int64_t) { return t > 1 ? 0.55e-3 : 1e-3; });
  EXPECT_EQ(team.threads(), 2);
  EXPECT_GE(full, 2000 - GreedyTeam::kWarmSteps - 5 * GreedyTeam::kProbeSteps);
}

TEST(GreedyTeam, FollowsAChangeOfLoad) {
  GreedyTeam team(2, kWork);
  auto idle = [](int t, int64_t) { return t > 1 ? 0.55e-3 : 1e-3; };
  auto loaded = [](int t, int64_t) { return t > 1 ? 6.7e-3 : 1e-3; };
  steps_on_the_full_team(team, 0, 3000, idle);
  ASSERT_EQ(team.threads(), 2);
  // Load arrives: every step on the team now costs 6.7 ms; the team notices
  // within two blocks (the one-thread size was last timed long ago), then
  // re-times the team now and then.
  const int64_t full = steps_on_the_full_team(team, 3000, 3000, loaded);
  EXPECT_EQ(team.threads(), 1);
  EXPECT_LE(full, 2 * GreedyTeam::kBlockSteps + 6 * GreedyTeam::kProbeSteps);
  // The load goes away: the next re-measurement of the team (at most the
  // longest interval later) wins and the team runs again.
  const int64_t back = steps_on_the_full_team(team, 6000, 3000, idle);
  EXPECT_EQ(team.threads(), 2);
  EXPECT_GE(back, 3000 - (GreedyTeam::kLongestInterval + 8) * GreedyTeam::kBlockSteps / 2);
}

TEST(GreedyTeam, SmallStepsAndOneThreadNeverUseATeam) {
  GreedyTeam small(8, GreedyTeam::kMinParallelWork - 1), single(1, kWork);
  for (int s = 0; s < 100; ++s) {
    EXPECT_EQ(small.next(), 1);
    small.record(1e-3);
    EXPECT_EQ(single.next(), 1);
    single.record(1e-3);
  }
}

TEST(GreedyKernel, SameSelectionForAnyTeamSize) {
  torch::manual_seed(3);
  const auto rows = torch::randn({4099, 128});  // not a multiple of 8 rows per thread
  std::vector<std::vector<float>> mind(3, std::vector<float>(rows.size(0), std::numeric_limits<float>::infinity()));
  int64_t last = 0;
  for (int step = 0; step < 50; ++step) {
    const auto c = rows[last].contiguous();
    tc::sampling::BlockMax best[3];
    for (int t = 1; t <= 3; ++t)
      best[t - 1] = tc::sampling::update_min_distances_torch_order(rows.data_ptr<float>(), rows.size(0), 128,
                                                                  c.data_ptr<float>(), mind[t - 1].data(), t);
    for (int t = 1; t < 3; ++t) {
      ASSERT_EQ(best[t].index, best[0].index) << "step " << step << ", " << t + 1 << " threads";
      ASSERT_EQ(best[t].value, best[0].value);
      ASSERT_EQ(mind[t], mind[0]);
    }
    last = best[0].index;
  }
}

}  // namespace
