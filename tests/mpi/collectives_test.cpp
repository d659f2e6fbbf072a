// One collective suite for every communicator in the factory (comm_factory.h):
// "self", "mpi", "nccl" and the tests' toy "counting" (counting_comm.cpp).
// Each backend is built over the world's ranks by name and checked against
// closed forms in its own rank and size, on its own device. A backend this
// process cannot build (NCCL without one GPU per local rank) skips, on every
// rank alike, and says why.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "mpi_testing.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm_factory.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/dist/local_rank.h"
#include "tailedcore/dist/nccl_comm.h"

using tc::dist::ReduceOp;
using tc::testing::world;

namespace {

class Collectives : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string name = GetParam();
    if (name == "mpi" && world().backend() != "mpi") GTEST_SKIP() << "'mpi' needs mpirun";
    if (name == "nccl") {
      const int64_t ok = tc::dist::built_with_cuda() &&
                                 tc::dist::cuda_device_count() >= tc::core::local_rank_count()
                             ? 1
                             : 0;
      // One decision on every rank, or the ranks would disagree on the collectives to come.
      if (!world().allreduce(torch::tensor({ok}), ReduceOp::kMin).item<int64_t>())
        GTEST_SKIP() << "NCCL NOT TESTED: needs a CUDA build and one CUDA device per local rank ("
                     << tc::dist::cuda_device_count() << " visible, "
                     << tc::core::local_rank_count() << " local ranks)";
    }
    comm_ = tc::dist::make_comm(name, {&world(), tc::dist::this_rank_device()});
  }
  /// `t` on the communicator's device.
  torch::Tensor on(const torch::Tensor& t) const {
    return comm_->cuda_device() >= 0 ? t.to(torch::Device(torch::kCUDA, comm_->cuda_device())) : t;
  }
  std::unique_ptr<tc::dist::Comm> comm_;
};

TEST_P(Collectives, AllgatherIsInRankOrder) {
  auto& c = *comm_;
  EXPECT_EQ(c.backend(), GetParam());
  auto got = c.allgather(on(torch::full({2, 3}, static_cast<float>(c.rank())))).cpu();
  ASSERT_EQ(got.size(0), 2 * c.size());
  for (int r = 0; r < c.size(); ++r)
    EXPECT_TRUE(torch::all(got[2 * r] == r).item<bool>()) << "block " << r;
}

TEST_P(Collectives, AllgathervWithEmptyBlocks) {
  auto& c = *comm_;
  // Rank r contributes r rows (rank 0 none) of value r.
  auto got =
      c.allgatherv(on(torch::full({c.rank(), 2}, static_cast<int64_t>(c.rank()), torch::kInt64)))
          .cpu();
  std::vector<int64_t> want;
  for (int r = 0; r < c.size(); ++r)
    for (int i = 0; i < 2 * r; ++i) want.push_back(r);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  EXPECT_TRUE(torch::equal(got.flatten(), torch::tensor(want, torch::kInt64)));
  auto half = c.allgatherv(on(torch::ones({1, 2}, torch::kFloat16) * c.rank())).cpu();
  EXPECT_EQ(half.size(0), c.size());
  EXPECT_EQ(half[c.size() - 1][0].item<float>(), c.size() - 1);
}

TEST_P(Collectives, AllreduceSumMinMax) {
  auto& c = *comm_;
  const int n = c.size();
  auto t = on(torch::tensor({static_cast<double>(c.rank()), 1.0}));
  EXPECT_EQ(c.allreduce(t, ReduceOp::kSum)[0].item<double>(), n * (n - 1) / 2.0);
  EXPECT_EQ(c.allreduce(t, ReduceOp::kMin)[0].item<double>(), 0.0);
  EXPECT_EQ(c.allreduce(t, ReduceOp::kMax)[0].item<double>(), n - 1.0);
  EXPECT_EQ(c.allreduce(on(torch::ones({5}, torch::kFloat16)), ReduceOp::kSum)[4].item<float>(),
            static_cast<float>(n));
}

TEST_P(Collectives, MaxLocTiesGoToTheLowestIndexAndNaNLoses) {
  auto& c = *comm_;
  const int n = c.size(), r = c.rank();
  EXPECT_EQ(c.max_loc(5.0, 100 - r), std::make_pair(5.0, int64_t{100 - (n - 1)}));
  const auto [v, i] = c.max_loc(r == 0 ? NAN : static_cast<double>(r), r);
  if (n > 1) EXPECT_EQ(std::make_pair(v, i), std::make_pair(n - 1.0, int64_t{n - 1}));
  // Every rank offers NaN: NaN with the lowest index.
  const auto [nv, ni] = c.max_loc(NAN, 50 - r);
  EXPECT_TRUE(std::isnan(nv)) << nv;
  EXPECT_EQ(ni, 50 - (n - 1));
}

TEST_P(Collectives, BroadcastAndSplit) {
  auto& c = *comm_;
  const int n = c.size(), r = c.rank();
  auto b = c.broadcast(on(torch::full({3}, static_cast<float>(r + 7))), n - 1).cpu();
  EXPECT_TRUE(torch::equal(b, torch::full({3}, static_cast<float>(n + 6))));
  auto sub = c.split(r % 2, -r);  // reversed order inside each group
  EXPECT_EQ(sub->size(), (n + 1 - r % 2) / 2);
  auto ranks = sub->allgather(on(torch::tensor({int64_t{r}}))).cpu();
  for (int64_t k = 1; k < ranks.size(0); ++k)
    EXPECT_GT(ranks[k - 1].item<int64_t>(), ranks[k].item<int64_t>());
  c.barrier();
}

TEST_P(Collectives, AlltoallvDeliversEachBlockToItsRank) {
  auto& c = *comm_;
  const int n = c.size(), me = c.rank();
  // Rank s sends rank q (q + 1) rows of 10 * s + q, and rank 0 nothing at all.
  std::vector<at::Tensor> parts;
  for (int q = 0; q < n; ++q)
    parts.push_back(on(torch::full({me == 0 ? 0 : q + 1, 2}, static_cast<float>(10 * me + q))));
  const auto got = c.alltoallv(parts);
  ASSERT_EQ(static_cast<int>(got.size()), n);
  for (int s = 0; s < n; ++s) {
    const auto want = torch::full({s == 0 ? 0 : me + 1, 2}, static_cast<float>(10 * s + me));
    EXPECT_TRUE(torch::equal(got[s].cpu(), want)) << "from rank " << s << ": " << got[s];
  }
  const auto gathered =
      tc::dist::gather_to(c, on(torch::full({me, 2}, static_cast<float>(me))), n - 1);
  if (me == n - 1) {
    EXPECT_EQ(gathered.size(0), n * (n - 1) / 2);
  } else {
    EXPECT_FALSE(gathered.defined());
  }
}

// The packed pick (one kernel under NCCL, the host rule on CPU tensors)
// against the host pick (max_loc_with_row) and max_loc: the same winner in
// every case of the rule.
TEST_P(Collectives, PackedPickIsTheHostPick) {
  auto& c = *comm_;
  const int n = c.size(), me = c.rank();
  const double nan = std::numeric_limits<double>::quiet_NaN(),
               inf = std::numeric_limits<double>::infinity();
  const int64_t none = std::numeric_limits<int64_t>::max();
  struct Case {
    double value;
    int64_t index;
  };
  const std::vector<Case> cases = {
      {static_cast<double>(me), 10 + me},                  // distinct: the last rank
      {1.0, 100 - me},                                     // equal: the lowest index
      {me == 0 && n > 1 ? nan : 2.0, 7 + me},              // NaN loses
      {nan, 50 - me},                                      // all NaN: the lowest index
      {me == n - 1 ? 3.0 : -inf, me == n - 1 ? 4 : none},  // only one rank has a candidate
      {me == 0 ? nan : -inf, none},                        // NaN against no candidate
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const auto row = torch::full({3}, static_cast<float>(me));
    const auto host = tc::dist::max_loc_with_row(c, cases[k].value, cases[k].index, row);
    const auto [mv, mi] = c.max_loc(cases[k].value, cases[k].index);
    const auto packed = tc::dist::max_loc_packed(
                            c, on(tc::dist::pack_candidate(cases[k].value, cases[k].index, row)))
                            .cpu();
    double pv;
    int64_t pi;
    std::memcpy(&pv, packed.data_ptr<int32_t>(), sizeof pv);
    std::memcpy(&pi, packed.data_ptr<int32_t>() + 2, sizeof pi);
    EXPECT_EQ(pi, mi) << "case " << k;
    EXPECT_EQ(host.index, mi) << "case " << k;
    EXPECT_TRUE(pv == mv || (std::isnan(pv) && std::isnan(mv)))
        << "case " << k << ": " << pv << " vs " << mv;
    const auto prow = packed.narrow(0, tc::dist::kPackedHeaderWords, 3).view(torch::kFloat32);
    EXPECT_TRUE(torch::equal(prow, host.row)) << "case " << k << ": " << prow << " vs " << host.row;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, Collectives, ::testing::ValuesIn(tc::dist::comm_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
