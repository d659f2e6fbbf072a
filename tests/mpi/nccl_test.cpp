// NcclComm over the world's ranks (bootstrapped over the world's MpiComm),
// on host tensors staged through the devices, against the closed forms that
// comm_test.cpp checks for MpiComm. Skips, on every rank alike, unless each
// rank on a host has its own CUDA device (NCCL refuses two ranks on one GPU).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mpi_testing.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/local_rank.h"
#include "tailedcore/dist/nccl_comm.h"

using tc::dist::ReduceOp;
using tc::testing::world;

namespace {

class NcclWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& w = world();
    const int64_t ok = tc::dist::cuda_device_count() >= tc::core::local_rank_count() ? 1 : 0;
    // The same decision on every rank, or the ranks would disagree on the collectives to come.
    const auto all_ok = w.allreduce(torch::tensor({ok}), ReduceOp::kMin).item<int64_t>();
    if (!all_ok) GTEST_SKIP() << "needs one CUDA device per local rank";
    comm_ = tc::dist::make_nccl_comm(w, tc::dist::this_rank_device());
  }
  std::unique_ptr<tc::dist::Comm> comm_;
};

TEST_F(NcclWorld, GathersReducesBroadcasts) {
  auto& c = *comm_;
  const int n = c.size(), r = c.rank();
  ASSERT_EQ(n, world().size());
  auto g = c.allgather(torch::full({2, 3}, static_cast<float>(r)));
  ASSERT_EQ(g.size(0), 2 * n);
  for (int q = 0; q < n; ++q) EXPECT_TRUE(torch::all(g[2 * q] == q).item<bool>()) << "block " << q;
  // Rank q contributes q rows of value q (rank 0 none).
  auto v = c.allgatherv(torch::full({r, 2}, static_cast<int64_t>(r), torch::kInt64));
  std::vector<int64_t> want;
  for (int q = 0; q < n; ++q)
    for (int i = 0; i < 2 * q; ++i) want.push_back(q);
  EXPECT_TRUE(torch::equal(v.flatten(), torch::tensor(want, torch::kInt64)));
  auto t = torch::tensor({static_cast<double>(r), 1.0});
  EXPECT_EQ(c.allreduce(t, ReduceOp::kSum)[0].item<double>(), n * (n - 1) / 2.0);
  EXPECT_EQ(c.allreduce(t, ReduceOp::kMin)[0].item<double>(), 0.0);
  EXPECT_EQ(c.allreduce(t, ReduceOp::kMax)[0].item<double>(), n - 1.0);
  auto h = c.allreduce(torch::ones({5}, torch::kFloat16), ReduceOp::kSum);
  EXPECT_EQ(h[4].item<float>(), static_cast<float>(n));
  // Non-root ranks pass a tensor of another shape: the root's shape wins.
  auto b = c.broadcast(r == n - 1 ? torch::full({3}, 7.f) : torch::zeros({1}), n - 1);
  EXPECT_TRUE(torch::equal(b, torch::full({3}, 7.f)));
  c.barrier();
}

TEST_F(NcclWorld, MaxLocAndSplit) {
  auto& c = *comm_;
  const int n = c.size(), r = c.rank();
  EXPECT_EQ(c.max_loc(5.0, 100 - r), std::make_pair(5.0, int64_t{100 - (n - 1)}));
  auto [v, i] = c.max_loc(r == 0 ? NAN : static_cast<double>(r), r);
  if (n > 1) EXPECT_EQ(std::make_pair(v, i), std::make_pair(n - 1.0, int64_t{n - 1}));
  auto sub = c.split(r % 2, -r);  // reversed order inside each group
  EXPECT_EQ(sub->size(), (n + 1 - r % 2) / 2);
  auto ranks = sub->allgather(torch::tensor({int64_t{r}}));
  for (int64_t k = 1; k < ranks.size(0); ++k)
    EXPECT_GT(ranks[k - 1].item<int64_t>(), ranks[k].item<int64_t>());
}

}  // namespace
