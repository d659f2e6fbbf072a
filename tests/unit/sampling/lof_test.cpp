// Patch-wise LOF (SPEC 3.3) against sklearn's LocalOutlierFactor
// (tests/fixtures/sampling/make_lof_fixtures.py), hand-made cases, and the
// quantile rule.
#include "tailedcore/sampling/lof.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/projection.h"
#include "testing.h"

using namespace tc::sampling;

namespace {

tc::io::H5Reader& cases() {
  static tc::io::H5Reader r(tc::testing::fixtures_dir() / "sampling" / "lof_cases.h5");
  return r;
}

// The plain tensor formula, the reference the blocked kernel is checked
// against: sklearn's LocalOutlierFactor(n_neighbors=k).fit(x).negative_outlier_factor_,
// negated; x [B, N, D] is B independent sets; returns [B, N] float64.
torch::Tensor local_outlier_factor(const torch::Tensor& x_in, int64_t k) {
  TC_CHECK(x_in.dim() == 3, "LOF expects [sets, points, dim]: got ", x_in.sizes());
  const int64_t n = x_in.size(1);
  TC_CHECK(n >= 2, "LOF needs at least 2 images: got ", n);
  const int64_t k_eff = std::min(k, n - 1);
  // Distances in float64 (sklearn's brute force upcasts float32 inputs).
  const auto x = x_in.to(torch::kFloat64);
  const auto sq = (x * x).sum(2);  // [B, N]
  auto d2 = sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * torch::bmm(x, x.transpose(1, 2));
  auto dist = d2.clamp_min_(0).sqrt_();
  // A point is not its own neighbour.
  dist.diagonal(0, 1, 2).fill_(std::numeric_limits<double>::infinity());
  auto [knn_dist, knn_idx] = dist.topk(k_eff, 2, /*largest=*/false, /*sorted=*/true);  // [B, N, k]
  const auto k_distance = knn_dist.select(2, k_eff - 1);                               // [B, N]
  // reach(a, b) = max(k-distance(b), d(a, b)) over a's neighbours b.
  const auto nb_kdist = k_distance.gather(1, knn_idx.flatten(1)).view_as(knn_dist);
  const auto reach = torch::maximum(nb_kdist, knn_dist);
  const auto lrd = 1.0 / (reach.mean(2) + 1e-10);  // [B, N]
  const auto nb_lrd = lrd.gather(1, knn_idx.flatten(1)).view_as(knn_dist);
  return nb_lrd.mean(2) / lrd;
}

double max_relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const auto g = got.to(torch::kFloat64), w = want.to(torch::kFloat64);
  return ((g - w).abs() / w.abs()).max().item<double>();
}

TEST(Lof, MatchesSklearnOnGeneralSets) {
  for (const std::string name :
       {"blobs_d20", "mixed_d8", "k3_d5", "few_n4", "pair_n2", "n7_keff6", "dup_triple"}) {
    const std::string g = "sets/" + name + "/";
    const auto x = cases().read(g + "x");
    const auto want = cases().read(g + "scores");
    const auto got = local_outlier_factor(x.unsqueeze(0), cases().attr_int("k", g + "x"));
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{1, x.size(0)})) << name;
    EXPECT_LT(max_relative_error(got[0], want), 1e-4)
        << name << "\nours " << got[0] << "\nsklearn " << want;
  }
}

// More than k identical rows: k-distance 0, reach 0, lrd = 1 / 1e-10 (SPEC 9.7).
// sklearn (a KD-tree here) measures those distances as exactly 0.
TEST(Lof, MoreThanKDuplicatesGiveLrd1e10LikeSklearn) {
  const auto x = cases().read("sets/dup_many_d4/x");
  const auto want = cases().read("sets/dup_many_d4/scores");
  const auto got = local_outlier_factor(x.unsqueeze(0), 6)[0];
  EXPECT_LT(max_relative_error(got, want), 1e-4) << "\nours " << got << "\nsklearn " << want;
}

TEST(Lof, TwoPointsHaveLofOne) {
  // N = 2: k_eff = 1, each is the other's neighbour, reach = d, LOF = 1.
  const auto x = torch::tensor({0.f, 0.f, 3.f, 4.f}).view({1, 2, 2});
  const auto got = local_outlier_factor(x, 6);
  EXPECT_NEAR(got[0][0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(got[0][1].item<double>(), 1.0, 1e-12);
}

TEST(Lof, HandComputedLineWithKOne) {
  // 1-D points 0, 1, 3 with k = 1. Nearest: 0->1 (1), 1->0 (1), 3->1 (2).
  // k-dist: 1, 1, 2. reach(0,1)=max(1,1)=1, reach(1,0)=1, reach(3,1)=max(1,2)=2.
  // lrd = 1, 1, 0.5 (+1e-10). LOF: 0 -> 1/1, 1 -> 1/1, 3 -> lrd(1)/lrd(3) = 2.
  const auto x = torch::tensor({0.f, 1.f, 3.f}).view({1, 3, 1});
  const auto got = local_outlier_factor(x, 1)[0];
  EXPECT_NEAR(got[0].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(got[1].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(got[2].item<double>(), 2.0, 1e-9);
}

TEST(Lof, PatchwiseMatchesSklearnPerPositionImageMajor) {
  const auto x = cases().read("patchwise/x");
  const int64_t P = cases().attr_int("P", "patchwise/x");
  LofOptions o;
  o.proj_dim = 0;  // the reference skips the projection at this size; we test LOF itself
  auto comm = tc::dist::make_self_comm();
  const auto got = patchwise_lof(x, P, o, *comm);
  const auto want = cases().read("patchwise/scores");
  ASSERT_EQ(got.scores.sizes(), want.sizes());
  EXPECT_EQ(got.scores.scalar_type(), torch::kFloat32);
  EXPECT_LT(max_relative_error(got.scores, want), 1e-4);
  EXPECT_TRUE(torch::equal(got.kept_indices, cases().read("patchwise/kept")));
}

TEST(Lof, PatchwiseWithProjectionEqualsLofOfProjectedRows) {
  torch::manual_seed(1);
  const int64_t N = 15, P = 4, D = 40;
  const auto x = torch::randn({N * P, D});
  LofOptions o;
  o.proj_dim = 8;
  o.seed = 3;
  auto comm = tc::dist::make_self_comm();
  const auto got = patchwise_lof(x, P, o, *comm);
  const auto projected = project(x, 8, 3).view({N, P, 8}).transpose(0, 1);
  const auto want = local_outlier_factor(projected.contiguous(), 6).t().reshape({N * P});
  EXPECT_LT(max_relative_error(got.scores, want), 1e-4);
}

// Images of several grids (mixed native sizes): a position is scored among
// the images of its grid only, a grid of one image scores 1, and one quantile
// over every row keeps the patches.
TEST(Lof, MixedGridsScoreEachPositionAmongTheImagesOfItsGrid) {
  torch::manual_seed(4);
  // Images 0, 2, 4, 6, 8: 2 x 2; 1, 3, 5, 7: 1 x 3; 9 alone: 1 x 2.
  std::vector<int64_t> hw;
  for (int64_t i = 0; i < 10; ++i) {
    hw.push_back(i == 9 ? 1 : i % 2 == 0 ? 2 : 1);
    hw.push_back(i == 9 ? 2 : i % 2 == 0 ? 2 : 3);
  }
  const auto grids = tc::core::PatchGrids::of(torch::tensor(hw).view({10, 2}));
  const auto x = torch::randn({grids.rows(), 12});
  LofOptions o;
  o.proj_dim = 0;
  auto comm = tc::dist::make_self_comm();
  const auto got = patchwise_lof(x, grids, o, *comm);
  ASSERT_EQ(got.scores.size(0), grids.rows());
  for (const auto& g : grids.groups()) {
    std::vector<torch::Tensor> imgs;
    for (const int64_t i : g.images) imgs.push_back(x.narrow(0, grids.row_begin(i), g.per_image()));
    if (g.images.size() == 1) {
      EXPECT_TRUE(torch::equal(got.scores.narrow(0, grids.row_begin(g.images[0]), g.per_image()),
                               torch::ones({g.per_image()})));
      continue;
    }
    // [positions, images]: each position its own set of the group's images.
    const auto want = local_outlier_factor(torch::stack(imgs).transpose(0, 1).contiguous(), 6);
    for (size_t k = 0; k < g.images.size(); ++k)
      EXPECT_LT(
          max_relative_error(got.scores.narrow(0, grids.row_begin(g.images[k]), g.per_image()),
                             want.select(1, static_cast<int64_t>(k))),
          1e-5)
          << "image " << g.images[k];
  }
  const double th = torch::quantile(got.scores.to(torch::kFloat64), 0.85).item<double>();
  EXPECT_TRUE(torch::equal(got.kept_indices,
                           torch::nonzero(got.scores.to(torch::kFloat64) < th).flatten()));
}

TEST(Lof, RejectsBadShapes) {
  auto comm = tc::dist::make_self_comm();
  EXPECT_THROW(patchwise_lof(torch::randn({10, 4}), 3, {}, *comm), tc::Error);  // 10 % 3 != 0
  EXPECT_THROW(local_outlier_factor(torch::randn({1, 1, 4}), 6), tc::Error);    // one point
  // No rows at all: one line, not an internal check.
  const auto none = tc::testing::error_of([&] {
    patchwise_lof(torch::empty({0, 4}), 3, {}, *comm);
  });
  EXPECT_NE(none.find("LOF: no training rows"), std::string::npos) << none;
}

TEST(LofBlocked, MatchesSklearnOnEverySet) {
  for (const std::string name : {"blobs_d20", "mixed_d8", "k3_d5", "few_n4", "pair_n2", "n7_keff6",
                                 "dup_triple", "dup_many_d4"}) {
    const std::string g = "sets/" + name + "/";
    const auto x = cases().read(g + "x");
    const auto got = local_outlier_factor_blocked(x.unsqueeze(0), cases().attr_int("k", g + "x"));
    EXPECT_LT(max_relative_error(got[0], cases().read(g + "scores")), 1e-4) << name;
  }
}

TEST(LofBlocked, PatchwiseAgreesWithTheTensorVersionOnALargerProjectedCase) {
  LofOptions o;
  auto comm = tc::dist::make_self_comm();
  torch::manual_seed(7);
  const auto y = torch::randn({40 * 30, 48}).relu();
  o.proj_dim = 16;
  o.seed = 2;
  const auto a = patchwise_lof(y, 30, o, *comm);
  const auto projected = y.mm(random_projection(48, 16, 2)).view({40, 30, 16}).transpose(0, 1);
  const auto b = local_outlier_factor(projected.contiguous(), 6).t().reshape({40 * 30});
  EXPECT_LT(max_relative_error(a.scores, b), 1e-5);
  EXPECT_TRUE(torch::equal(a.kept_indices, keep_below_quantile(b.to(torch::kFloat32), 0.85)));
}

// Points far from the origin and close to each other: float32 distances from
// the expanded form are pure rounding there, so every neighbour comes from the
// float64 re-ranking, which must give the float64 tensor version's scores.
TEST(LofBlocked, ReRanksInFloat64WhereFloat32CannotSeparate) {
  torch::manual_seed(3);
  const auto x =
      (1000 + 0.01 * torch::randint(0, 50, {2, 60, 32}).to(torch::kFloat32)).contiguous();
  const auto got = local_outlier_factor_blocked(x, 6);
  const auto want = local_outlier_factor(x, 6);
  EXPECT_LT(max_relative_error(got, want), 1e-9);
  // And the float32 ranking alone would be wrong here: its distances are not the float64 ones.
  const auto g32 = torch::bmm(x, x.transpose(1, 2));
  const auto sq32 = (x * x).sum(2);
  const auto d32 = (sq32.unsqueeze(2) + sq32.unsqueeze(1) - 2 * g32).clamp_min(0);
  const auto xd = x.to(torch::kFloat64);
  const auto d64 = torch::cdist(xd, xd).square();
  EXPECT_GT((d32.to(torch::kFloat64) - d64).abs().max().item<double>(), 1.0);
}

// The GPU path's candidate choice (tensor operations, only the candidates
// downloaded) run on the CPU: bit-equal scores to the host loop on the fixture
// sets, duplicates and the case where float32 cannot separate the neighbours.
TEST(LofBlocked, TensorCandidatesGiveTheHostLoopsScores) {
  for (const std::string name : {"blobs_d20", "mixed_d8", "k3_d5", "few_n4", "pair_n2", "n7_keff6",
                                 "dup_triple", "dup_many_d4"}) {
    const std::string g = "sets/" + name + "/";
    const auto x = cases().read(g + "x").unsqueeze(0);
    const int64_t k = cases().attr_int("k", g + "x");
    EXPECT_TRUE(torch::equal(local_outlier_factor_on(x, k, torch::kCPU),
                             local_outlier_factor_blocked(x, k)))
        << name;
  }
  torch::manual_seed(3);
  const auto far =
      (1000 + 0.01 * torch::randint(0, 50, {2, 60, 32}).to(torch::kFloat32)).contiguous();
  EXPECT_TRUE(torch::equal(local_outlier_factor_on(far, 6, torch::kCPU),
                           local_outlier_factor_blocked(far, 6)));
  // More sets than one Gram block holds (positions_per_block): the blocks' rows line up.
  const auto many = torch::randn({300, 20, 8});
  EXPECT_TRUE(torch::equal(local_outlier_factor_on(many, 3, torch::kCPU),
                           local_outlier_factor_blocked(many, 3)));
}

TEST(KeepBelowQuantile, LinearInterpolationAndStrictLess) {
  const auto s = torch::tensor({5.f, 1.f, 4.f, 2.f, 3.f});
  // q = 0.5: th = 3 -> keep 1, 2 (strict: 3 itself is dropped).
  EXPECT_TRUE(torch::equal(keep_below_quantile(s, 0.5), torch::tensor({1, 3}, torch::kInt64)));
  // q = 0.85: pos = 3.4 over [1..5] -> th = 4.4 -> keep all but 5, ascending.
  EXPECT_TRUE(
      torch::equal(keep_below_quantile(s, 0.85), torch::tensor({1, 2, 3, 4}, torch::kInt64)));
  // All equal: th equals every score, nothing is strictly below.
  EXPECT_EQ(keep_below_quantile(torch::full({6}, 2.f), 0.85).numel(), 0);
  // q = 1: th = max -> everything but the maxima.
  EXPECT_TRUE(torch::equal(keep_below_quantile(torch::tensor({1.f, 9.f, 9.f}), 1.0),
                           torch::tensor({0}, torch::kInt64)));
}

TEST(KeepBelowQuantile, AgreesWithTorchQuantileOnRandomScores) {
  torch::manual_seed(4);
  const auto s = torch::rand({1001}) * 3;
  for (double q : {0.1, 0.5, 0.85, 0.999}) {
    const auto th = torch::quantile(s, q).item<float>();
    const auto want = torch::nonzero(s < th).flatten();
    EXPECT_TRUE(torch::equal(keep_below_quantile(s, q), want)) << q;
    // ~q of the scores are kept.
    EXPECT_NEAR(static_cast<double>(want.numel()) / s.numel(), q, 0.002) << q;
  }
}

}  // namespace
