// The fast sampling paths over the world's ranks equal the one-process result:
// patchwise_lof_blocked (positions sharded) and the torch-order greedy kernel.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/sampling/lof_blocked.h"

using namespace tc::sampling;
using tc::testing::world;

namespace {

TEST(MpiSamplingFast, BlockedLofIsRankInvariant) {
  torch::manual_seed(12);
  const auto feats = torch::randn({30 * 25, 64}).relu();
  LofOptions o;
  o.proj_dim = 16;
  o.seed = 9;
  auto self = tc::dist::make_self_comm();
  const auto want = patchwise_lof_blocked(feats, 25, o, *self);
  const auto got = patchwise_lof_blocked(feats, 25, o, world());
  EXPECT_TRUE(torch::equal(got.scores, want.scores));
  EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices));
}

}  // namespace
