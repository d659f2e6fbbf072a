#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"

namespace {

TEST(ShardRange, BlocksCoverInOrderWithTheRemainderFirst) {
  for (int size : {1, 2, 3, 7})
    for (int64_t n : {0, 1, 5, 10, 23}) {
      int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        const auto b = tc::dist::shard_range(n, r, size);
        EXPECT_EQ(b.begin, next) << n << " over " << size;
        EXPECT_EQ(b.size(), n / size + (r < n % size ? 1 : 0))
            << n << " over " << size << " rank " << r;
        next = b.end;
      }
      EXPECT_EQ(next, n);
    }
  EXPECT_THROW(tc::dist::shard_range(5, 3, 3), tc::Error);
}

TEST(SelfComm, IsTheIdentity) {
  auto c = tc::dist::make_self_comm();
  auto t = torch::rand({3, 2});
  EXPECT_TRUE(torch::equal(c->allgatherv(t), t));
  EXPECT_TRUE(torch::equal(c->allreduce(t, tc::dist::ReduceOp::kSum), t));
  EXPECT_EQ(c->max_loc(1.5, 9), std::make_pair(1.5, int64_t{9}));
  const auto [nan_value, nan_index] = c->max_loc(NAN, 4);  // all NaN: NaN with the lowest index
  EXPECT_TRUE(std::isnan(nan_value));
  EXPECT_EQ(nan_index, 4);
  EXPECT_EQ(c->split(4, 0)->size(), 1);
  EXPECT_THROW(c->broadcast(t, 1), tc::Error);
}

}  // namespace
