// MpiComm past MPI's int counts: a communicator whose calls carry at most a
// few elements (MpiOptions::max_message_elements, the testing knob) must give
// exactly the results of the world communicator, whose calls are unsplit.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <vector>

#include "mpi_testing.h"
#include "tailedcore/core/check.h"
#include "tailedcore/dist/mpi_comm.h"
#include "testing.h"

using tc::testing::world;

namespace {

// A second MpiComm over MPI_COMM_WORLD whose calls carry at most `limit` elements.
std::unique_ptr<tc::dist::Comm> limited(int64_t limit) {
  tc::dist::MpiOptions opts;
  opts.max_message_elements = limit;
  return tc::dist::make_mpi_comm(MPI_COMM_WORLD, opts);
}

#define SKIP_WITHOUT_MPI()        \
  if (world().backend() != "mpi") \
  GTEST_SKIP() << "needs mpirun (world is " << world().backend() << ")"

// Rows of rank r: 5, 0, 3, 5, 0, ... (rank 1 has none; one block exceeds 7 elements).
int64_t rows_of(int rank) { return std::vector<int64_t>{5, 0, 3}[rank % 3]; }

TEST(CommChunked, AllgathervOfUnevenBlocksIsTheUnsplitResult) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  const int64_t n = rows_of(w.rank());
  // Distinct values per rank and element, in several dtypes.
  const auto base = torch::arange(n * 3, torch::kInt64).view({n, 3}) + 1000 * w.rank();
  const std::vector<torch::Tensor> inputs = {base,
                                             base.to(torch::kFloat32) / 7,
                                             base.to(torch::kFloat64) / 3,
                                             (base / 3).to(torch::kFloat16),
                                             base.remainder(2).to(torch::kBool),
                                             base.remainder(251).to(torch::kUInt8)};
  int64_t total = 0;
  for (int r = 0; r < w.size(); ++r) total += rows_of(r);
  for (int64_t limit : {1, 2, 7}) {
    auto small = limited(limit);
    for (const auto& in : inputs) {
      const auto want = w.allgatherv(in);
      const auto got = small->allgatherv(in);
      ASSERT_EQ(want.size(0), total);
      EXPECT_EQ(got.scalar_type(), in.scalar_type());
      EXPECT_TRUE(torch::equal(got, want))
          << "limit " << limit << ", " << in.scalar_type() << ", " << w.size() << " ranks";
    }
    // Rank r's block is at its offset: the closed form for the int64 rows.
    const auto got = small->allgatherv(base);
    int64_t at = 0;
    for (int r = 0; r < w.size(); at += rows_of(r), ++r)
      EXPECT_TRUE(
          torch::equal(got.narrow(0, at, rows_of(r)),
                       torch::arange(rows_of(r) * 3, torch::kInt64).view({-1, 3}) + 1000 * r))
          << "rank " << r << "'s block, limit " << limit;
  }
}

TEST(CommChunked, AllgathervUnderTheLimitAndEmpty) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  auto small = limited(7);
  // One element per rank: one call even under the small limit (for 3 ranks).
  const auto one = torch::full({1}, static_cast<int64_t>(w.rank()), torch::kInt64);
  EXPECT_TRUE(torch::equal(small->allgatherv(one), torch::arange(w.size(), torch::kInt64)));
  // Every rank empty.
  const auto none = small->allgatherv(torch::empty({0, 4}, torch::kFloat32));
  EXPECT_EQ(none.sizes(), (std::vector<int64_t>{0, 4}));
}

TEST(CommChunked, AllgatherIsTheUnsplitResult) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  const auto in = torch::rand({4, 3}) + w.rank();
  auto small = limited(7);
  const auto got = small->allgather(in);
  EXPECT_TRUE(torch::equal(got, w.allgather(in)));
  EXPECT_TRUE(torch::equal(got.narrow(0, 4 * w.rank(), 4), in));
  // A 0-dim tensor: one element per rank.
  const auto scalar = small->allgather(torch::tensor(static_cast<double>(w.rank())));
  EXPECT_TRUE(torch::equal(scalar, torch::arange(w.size(), torch::kFloat64)));
}

TEST(CommChunked, BroadcastIsTheUnsplitResult) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  const int root = w.size() - 1;
  auto small = limited(7);
  // 23 elements: pieces of 7, 7, 7 and 2.
  const auto mine = torch::arange(23, torch::kFloat64) * (w.rank() + 1) + 0.25;
  const auto got = small->broadcast(mine, root);
  EXPECT_TRUE(torch::equal(got, w.broadcast(mine, root)));
  EXPECT_TRUE(torch::equal(got, torch::arange(23, torch::kFloat64) * (root + 1) + 0.25));
  const auto bytes = small->broadcast(torch::full({2, 9}, w.rank(), torch::kUInt8), 0);
  EXPECT_TRUE(torch::all(bytes == 0).item<bool>());
}

TEST(CommChunked, ReductionsAreTheUnsplitResult) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  const int n = w.size();
  auto small = limited(7);
  // 50 elements (pieces of 7 and a last of 1); integer values, so float sums are exact.
  const auto i = torch::arange(50, torch::kInt64);
  const auto mine = (i * (w.rank() + 1)).remainder(17) - 8;
  for (auto op : {tc::dist::ReduceOp::kSum, tc::dist::ReduceOp::kMin, tc::dist::ReduceOp::kMax})
    for (const auto& t : {mine, mine.to(torch::kFloat32), mine.to(torch::kFloat64).view({5, 10}),
                          mine.to(torch::kFloat16)}) {
      const auto got = small->allreduce(t, op);
      EXPECT_EQ(got.sizes(), t.sizes());
      EXPECT_TRUE(torch::equal(got, w.allreduce(t, op)))
          << static_cast<int>(op) << " " << t.scalar_type();
    }
  // Closed form of the sum: sum over ranks of ((i * (r + 1)) mod 17 - 8).
  auto want = torch::zeros({50}, torch::kInt64);
  for (int r = 0; r < n; ++r) want += (i * (r + 1)).remainder(17) - 8;
  EXPECT_TRUE(torch::equal(small->allreduce(mine, tc::dist::ReduceOp::kSum), want));
}

TEST(CommChunked, SplitKeepsTheLimit) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  auto sub = limited(2)->split(w.rank() % 2, w.rank());
  // Every member of the group gives 3 rows of its world rank.
  const auto got =
      sub->allgatherv(torch::full({3, 2}, static_cast<int64_t>(w.rank()), torch::kInt64));
  ASSERT_EQ(got.size(0), 3 * sub->size());
  for (int r = 0; r < sub->size(); ++r)
    EXPECT_TRUE(torch::all(got.narrow(0, 3 * r, 3) == (w.rank() % 2) + 2 * r).item<bool>()) << r;
}

// An empty block must still have the others' row shape: every rank fails alike, none hangs.
TEST(CommChunked, AllgathervOfDifferentRowShapesFailsOnEveryRank) {
  SKIP_WITHOUT_MPI();
  auto& w = world();
  if (w.size() < 2) GTEST_SKIP() << "needs 2 ranks";
  const auto in = w.rank() == 1 ? torch::empty({0, 0, 0}) : torch::rand({2, 4, 3});
  const auto e = tc::testing::error_of([&] { w.allgatherv(in); });
  EXPECT_NE(e.find("rank 1's rows hold 0 elements, rank 0's 12"), std::string::npos) << e;
  w.barrier();
}

TEST(CommChunked, LimitOutsideMpiCountsIsRefused) {
  SKIP_WITHOUT_MPI();
  EXPECT_THROW(limited(0), tc::Error);
  EXPECT_THROW(limited(int64_t{1} << 31), tc::Error);
}

}  // namespace
