// Tail selection over the world's ranks equals the one-process result (the sharded greedy
// and LOF: shard_test.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/sampling/class_size.h"

using namespace tc::sampling;
using tc::testing::world;

namespace {

torch::Tensor clustered(int64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> parts;
  for (int64_t size : {40, 25, 9, 4, 2, 1})
    parts.push_back((torch::rand({1, 48}) * 4).repeat({size, 1}) + 0.3 * torch::rand({size, 48}));
  return torch::cat(parts);
}

TEST(MpiSampling, TailSelectionIsRankInvariant) {
  auto self = tc::dist::make_self_comm();
  for (const auto& [th, vote] :
       std::vector<std::pair<std::string, std::string>>{{"trim_min", "mode"},
                                                        {"double_max_step", "none"},
                                                        {"symmin", "mean"},
                                                        {"max_step", "nearest"}}) {
    // 13: 7 blocks over the ranks; 0: the default, N / ranks rows a block,
    // so each rank count computes other blocks than the one process.
    for (const int64_t block_rows : {13, 0}) {
      ClassSizeOptions o;
      o.threshold = tc::sampling::parse_threshold(th);
      o.vote = tc::sampling::parse_vote(vote);
      o.block_rows = block_rows;
      const auto x = clustered(1);
      const auto want = select_tail(x, o, *self);
      const auto got = select_tail(x, o, world());
      EXPECT_TRUE(torch::equal(got.tail_indices, want.tail_indices))
          << th << "/" << vote << " " << block_rows;
      EXPECT_TRUE(torch::equal(got.class_sizes.nan_to_num(-1), want.class_sizes.nan_to_num(-1)))
          << th << " " << block_rows;
    }
  }
}

}  // namespace
