#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mpi_testing.h"

using tc::testing::world;

namespace {

TEST(Comm, AllgatherIsInRankOrder) {
  auto& w = world();
  auto got = w.allgather(torch::full({2, 3}, static_cast<float>(w.rank())));
  ASSERT_EQ(got.size(0), 2 * w.size());
  for (int r = 0; r < w.size(); ++r) EXPECT_TRUE(torch::all(got[2 * r] == r).item<bool>());
}

TEST(Comm, AllgathervWithEmptyBlocks) {
  auto& w = world();
  // Rank r contributes r rows (rank 0 none) of value r.
  auto got = w.allgatherv(torch::full({w.rank(), 2}, static_cast<int64_t>(w.rank()), torch::kInt64));
  std::vector<int64_t> want;
  for (int r = 0; r < w.size(); ++r)
    for (int i = 0; i < r; ++i) want.push_back(r), want.push_back(r);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  EXPECT_TRUE(torch::equal(got.flatten(), torch::tensor(want)));
  auto half = w.allgatherv(torch::ones({1, 2}, torch::kFloat16) * w.rank());
  EXPECT_EQ(half.size(0), w.size());
  EXPECT_EQ(half[w.size() - 1][0].item<float>(), w.size() - 1);
}

TEST(Comm, AllreduceSumMinMax) {
  auto& w = world();
  const int n = w.size();
  auto t = torch::tensor({static_cast<double>(w.rank()), 1.0});
  EXPECT_EQ(w.allreduce(t, tc::dist::ReduceOp::kSum)[0].item<double>(), n * (n - 1) / 2.0);
  EXPECT_EQ(w.allreduce(t, tc::dist::ReduceOp::kMin)[0].item<double>(), 0.0);
  EXPECT_EQ(w.allreduce(t, tc::dist::ReduceOp::kMax)[0].item<double>(), n - 1.0);
}

TEST(Comm, MaxLocTiesGoToTheLowestIndex) {
  auto& w = world();
  // Every rank offers the same value: the lowest index wins.
  auto [v, i] = w.max_loc(5.0, 100 - w.rank());
  EXPECT_EQ(v, 5.0);
  EXPECT_EQ(i, 100 - (w.size() - 1));
  auto [v2, i2] = w.max_loc(w.rank() == 0 ? NAN : static_cast<double>(w.rank()), w.rank());
  if (w.size() > 1) {
    EXPECT_EQ(v2, w.size() - 1.0);
    EXPECT_EQ(i2, w.size() - 1);
  }
}

// Every rank offers NaN: the pick is NaN with the lowest index, whatever the
// rank count (SelfComm returns its own pair, which is the same rule).
TEST(Comm, MaxLocOfAllNaNIsNaNWithTheLowestIndex) {
  auto& w = world();
  const auto [v, i] = w.max_loc(NAN, 50 - w.rank());
  EXPECT_TRUE(std::isnan(v)) << v;
  EXPECT_EQ(i, 50 - (w.size() - 1));
  const auto [sv, si] = tc::dist::make_self_comm()->max_loc(NAN, 50 - w.rank());
  EXPECT_TRUE(std::isnan(sv)) << sv;
  EXPECT_EQ(si, 50 - w.rank());
}

TEST(Comm, BroadcastAndSplit) {
  auto& w = world();
  auto b = w.broadcast(torch::full({3}, static_cast<float>(w.rank() + 7)), w.size() - 1);
  EXPECT_TRUE(torch::all(b == static_cast<float>(w.size() + 6)).item<bool>());
  auto sub = w.split(w.rank() % 2, w.rank());
  EXPECT_EQ(sub->size(), (w.size() + 1 - w.rank() % 2) / 2);
  auto s = sub->allreduce(torch::tensor({int64_t{1}}), tc::dist::ReduceOp::kSum);
  EXPECT_EQ(s.item<int64_t>(), sub->size());
  w.barrier();
}

}  // namespace
