// The device greedy's loop over the world's ranks, on the CPU: uneven blocks
// (one rank may hold none), the packed pick over the ranks, and the same picks
// as one rank's loop.
#include "tailedcore/sampling/greedy_device_loop.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "mpi_testing.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/local_rank.h"
#include "tailedcore/dist/nccl_comm.h"

using tc::testing::world;

namespace {

TEST(MpiGreedyDeviceLoop, ShardedPicksEqualOneRanks) {
  torch::manual_seed(23);
  const auto x = torch::randn({401, 16});
  const int R = world().size(), me = world().rank();
  // Rank r holds rows [bounds[r], bounds[r + 1]): the last rank none when R > 1.
  std::vector<int64_t> bounds(R + 1, x.size(0));
  for (int r = 0; r < R; ++r)
    bounds[r] = R == 1 ? 0 : std::min<int64_t>(x.size(0), r * (x.size(0) / (R - 1) + 1));
  const int64_t m = 60, first = 17;
  auto self = tc::dist::make_self_comm();
  std::vector<int64_t> want(m), got(m);
  want[0] = got[0] = first;
  tc::sampling::run_packed_steps(tc::sampling::torch_packed_step(x, 0), x[first].clone(), 1, m, 5,
                                 *self, want.data());
  const auto mine = x.narrow(0, bounds[me], bounds[me + 1] - bounds[me]);
  tc::sampling::run_packed_steps(tc::sampling::torch_packed_step(mine, bounds[me]),
                                 x[first].clone(), 1, m, 5, world(), got.data());
  EXPECT_EQ(got, want);
}

}  // namespace

namespace {

// The same on the GPU: every rank's block on its device (ranks may share one GPU:
// the world is then MpiComm, which moves the packed candidates through the host).
TEST(MpiGreedyDeviceLoop, OnTheGpuShardedPicksEqualTheCpuLoops) {
  const int64_t ok = tc::dist::built_with_cuda() && torch::cuda::is_available() ? 1 : 0;
  if (!world().allreduce(torch::tensor({ok}), tc::dist::ReduceOp::kMin).item<int64_t>())
    GTEST_SKIP()
        << "GPU PATH NOT TESTED: needs a CUDA build, a CUDA LibTorch and a device on every rank";
  torch::manual_seed(29);
  const auto x = torch::randn({5003, 64});
  const int R = world().size(), me = world().rank();
  const auto block = tc::dist::shard_range(x.size(0), me, R);
  const int64_t m = 300, first = 4000;
  auto self = tc::dist::make_self_comm();
  std::vector<int64_t> want(m), got(m);
  want[0] = got[0] = first;
  tc::sampling::run_packed_steps(tc::sampling::torch_packed_step(x, 0), x[first].clone(), 1, m, 64,
                                 *self, want.data());
  const int device = tc::dist::this_rank_device();
  const auto centre =
      x[first].to(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device)));
  const int64_t trips = tc::sampling::run_packed_steps(
      tc::sampling::cuda_packed_step(x.narrow(0, block.begin, block.size()), block.begin, device),
      centre, 1, m, 64, world(), got.data());
  EXPECT_EQ(trips, (m - 1 + 63) / 64);
  // Device sums round differently: a difference may only start at a near tie.
  int64_t first_diff = 0;
  while (first_diff < m && got[first_diff] == want[first_diff]) ++first_diff;
  std::printf("[ info ] %d rank(s) on cuda:%d: %lld picks, first difference at %lld\n", R, device,
              static_cast<long long>(m), static_cast<long long>(first_diff));
  if (first_diff < m) {
    const auto chosen = x.index_select(0, torch::tensor(want).narrow(0, 0, first_diff));
    const double da = torch::cdist(x[want[first_diff]].unsqueeze(0), chosen).min().item<double>();
    const double db = torch::cdist(x[got[first_diff]].unsqueeze(0), chosen).min().item<double>();
    EXPECT_NEAR(da, db, 1e-5 * (1 + da)) << "pick " << first_diff << " differs without a near tie";
  }
}

}  // namespace
