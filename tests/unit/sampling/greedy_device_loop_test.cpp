// The device greedy's loop (greedy_device_loop.h) on the CPU: the packed
// steps, the device pick and the batched downloads give the CPU greedy's
// picks, with one host round trip per batch.
#include "tailedcore/sampling/greedy_device_loop.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/coreset.h"

namespace {

TEST(GreedyDeviceLoop, TakesTheCpuGreedysPicksInBatches) {
  torch::manual_seed(11);
  auto x = torch::randn({700, 24});
  x[650] = x[40];  // a duplicate: equal min-distances, the lower row must win
  auto self = tc::dist::make_self_comm();
  tc::sampling::CoresetOptions opts;
  opts.ratio = 0.1;
  opts.proj_dim = 0;  // the rows as they are: the loop below sees what the greedy sees
  opts.start_index = 5;
  const auto want = tc::sampling::greedy_coreset(x, opts, *self);
  const int64_t m = want.size(0);
  for (int64_t batch : {int64_t{1}, int64_t{7}, m - 1, int64_t{4096}}) {
    std::vector<int64_t> sel(m, -1);
    sel[0] = opts.start_index;
    int64_t seen = 0;
    const int64_t trips =
        tc::sampling::run_packed_steps(tc::sampling::torch_packed_step(x, 0), x[5].clone(), 1, m,
                                       batch, *self, sel.data(), [&](int64_t c) { seen += c; });
    EXPECT_EQ(trips, (m - 1 + batch - 1) / batch) << "batch " << batch;
    EXPECT_EQ(seen, m - 1);
    EXPECT_TRUE(torch::equal(torch::tensor(sel), want)) << "batch " << batch;
  }
}

TEST(GreedyDeviceLoop, AnEmptyBlockOffersNoCandidate) {
  auto self = tc::dist::make_self_comm();
  const auto packed = tc::sampling::torch_packed_step(torch::empty({0, 3}), 0)(torch::zeros({3}));
  EXPECT_EQ(packed.narrow(0, 2, 2).view(torch::kInt64).item<int64_t>(),
            std::numeric_limits<int64_t>::max());
  EXPECT_THROW(
      tc::sampling::run_packed_steps(tc::sampling::torch_packed_step(torch::ones({2, 3}), 0),
                                     torch::zeros({3}), 1, 2, 0, *self, nullptr),
      std::exception);
}

}  // namespace
