// The fast sampling paths over the world's ranks equal the one-process result:
// patchwise_lof_blocked (positions sharded, scores all-gathered).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/sampling/lof_blocked.h"

using namespace tc::sampling;
using tc::testing::world;

namespace {

TEST(MpiSamplingFast, BlockedLofWithoutProjectionIsBitwiseRankInvariant) {
  torch::manual_seed(13);
  const auto feats = torch::randn({20 * 17, 24}).relu();
  LofOptions o;
  o.proj_dim = 0;
  auto self = tc::dist::make_self_comm();
  const auto want = patchwise_lof_blocked(feats, 17, o, *self);
  const auto got = patchwise_lof_blocked(feats, 17, o, world());
  EXPECT_TRUE(torch::equal(got.scores, want.scores));
  EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices));
}

TEST(MpiSamplingFast, BlockedLofIsRankInvariant) {
  torch::manual_seed(12);
  const auto feats = torch::randn({30 * 25, 64}).relu();
  LofOptions o;
  o.proj_dim = 16;
  o.seed = 9;
  auto self = tc::dist::make_self_comm();
  const auto want = patchwise_lof_blocked(feats, 25, o, *self);
  const auto got = patchwise_lof_blocked(feats, 25, o, world());
  // The projection of a rank's slab of positions may round differently from
  // the whole (BLAS blocking), as for patchwise_lof: scores agree to float
  // rounding, the kept set exactly.
  EXPECT_TRUE(torch::allclose(got.scores, want.scores, 1e-6, 1e-7));
  EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices));
}

}  // namespace
