// The fast sampling paths over the world's ranks equal the one-process result:
// patchwise_lof_blocked (positions sharded, scores all-gathered) and TailedLOF.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/tailed_lof.h"

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

TEST(MpiSamplingFast, TailedLofIsBitwiseRankInvariant) {
  torch::manual_seed(14);
  // Two kinds of image (18 and 4) so the few-shot scores vary.
  const auto kind = torch::cat({torch::zeros({18}), torch::ones({4})}).to(torch::kInt64);
  const auto centres = torch::rand({2, 9, 32});
  const auto feats = (centres.index_select(0, kind) + 0.2 * torch::randn({22, 9, 32})).abs().reshape({22 * 9, 32});
  LofOptions o;
  o.proj_dim = 0;  // projected once before sharding anyway; keep the products' shapes fixed
  auto self = tc::dist::make_self_comm();
  const auto want = tailed_lof(feats, 9, o, "symmin", *self);
  const auto got = tailed_lof(feats, 9, o, "symmin", world());
  EXPECT_TRUE(torch::equal(got.scores, want.scores));
  EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices));
  EXPECT_LT(want.kept_indices.size(0), 22 * 9);
}

}  // namespace
