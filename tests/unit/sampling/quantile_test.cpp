// linear_quantile against torch::quantile (bit for bit, where torch computes
// one) and past torch's 2^24 limit against a sort.
#include "tailedcore/sampling/quantile.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tailedcore/core/check.h"

using tc::sampling::linear_quantile;

namespace {

// Same bits, or both NaN.
bool same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

double torch_quantile(const torch::Tensor& x, double q) {
  return torch::quantile(x, q).item<double>();
}

TEST(LinearQuantile, IsTorchQuantileBitForBit) {
  torch::manual_seed(7);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uq(0.0, 1.0);
  int64_t checked = 0;
  for (int64_t n : {1, 2, 3, 4, 5, 7, 10, 33, 100, 257, 1000, 1001, 4099, 65537})
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      // Continuous values, heavy ties, and a spread of magnitudes with infinities.
      std::vector<torch::Tensor> sets = {torch::randn({n}, dtype) * 3,
                                         torch::randint(0, 4, {n}).to(dtype),
                                         torch::exp(torch::randn({n}, dtype) * 20)};
      sets.back()[n / 2] = std::numeric_limits<double>::infinity();
      sets.back()[0] = -std::numeric_limits<double>::infinity();
      std::vector<double> qs = {0.0, 1.0, 0.5, 0.85, 0.1, 0.999, 1e-9, 1 - 1e-9};
      for (int i = 0; i < 12; ++i) qs.push_back(uq(rng));
      for (const auto& x : sets)
        for (double q : qs) {
          const double want = torch_quantile(x, q), got = linear_quantile(x, q);
          EXPECT_TRUE(same(got, want))
              << "n " << n << " " << dtype << " q " << q << ": got " << got << ", torch " << want;
          ++checked;
        }
    }
  EXPECT_EQ(checked, 14 * 2 * 3 * 20);
}

TEST(LinearQuantile, AnyShapeIsFlattenedAsTorch) {
  const auto x = torch::rand({7, 3, 5});
  for (double q : {0.0, 0.3, 0.85, 1.0})
    EXPECT_TRUE(same(linear_quantile(x, q), torch_quantile(x, q))) << q;
  const auto one = torch::tensor(2.5);  // 0-dim: its own value for any q
  for (double q : {0.0, 0.4, 1.0}) EXPECT_EQ(linear_quantile(one, q), 2.5);
}

TEST(LinearQuantile, SmallCasesByHand) {
  const auto s = torch::tensor({5.f, 1.f, 4.f, 2.f, 3.f});
  EXPECT_EQ(linear_quantile(s, 0.0), 1.0);
  EXPECT_EQ(linear_quantile(s, 1.0), 5.0);
  EXPECT_EQ(linear_quantile(s, 0.5), 3.0);
  // rank 0.85 * 4 = 3.4 (in float32) -> 4 + 0.4 * (5 - 4), all float32.
  EXPECT_EQ(linear_quantile(s, 0.85), static_cast<double>(4.0f + (3.4f - 3.0f) * 1.0f));
  EXPECT_EQ(linear_quantile(torch::full({6}, 2.0), 0.37), 2.0);
}

TEST(LinearQuantile, NaNAnywhereIsNaNAsTorch) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    auto x = torch::rand({100}, dtype);
    x[17] = std::numeric_limits<double>::quiet_NaN();
    for (double q : {0.0, 0.1, 0.85, 1.0}) {
      EXPECT_TRUE(std::isnan(linear_quantile(x, q))) << q;
      EXPECT_TRUE(std::isnan(torch_quantile(x, q))) << q;
    }
  }
}

TEST(LinearQuantile, RefusesWhatTorchRefuses) {
  EXPECT_THROW(linear_quantile(torch::empty({0}), 0.5), tc::Error);
  EXPECT_THROW(linear_quantile(torch::rand({4}), -0.1), tc::Error);
  EXPECT_THROW(linear_quantile(torch::rand({4}), 1.5), tc::Error);
  EXPECT_THROW(linear_quantile(torch::ones({4}, torch::kInt64), 0.5), tc::Error);
  EXPECT_THROW(linear_quantile(torch::ones({4}, torch::kFloat16), 0.5), tc::Error);
}

// Past 2^24 values torch refuses ("quantile() input tensor is too large"); the result is the sorted
// values' lerp at the float64 rank (the weight rounded to float32), per the header.
TEST(LinearQuantile, PastTorchsLimitMatchesASort) {
  const int64_t n = (int64_t{1} << 24) + 3;
  torch::manual_seed(5);
  // Ties and a continuum, so below and above differ for most q.
  const auto x = torch::cat({torch::randn({n - 1000}), torch::full({1000}, 0.25f)});
  const auto sorted = std::get<0>(x.sort());
  const float* v = sorted.data_ptr<float>();
  for (double q : {0.0, 1.0, 0.85, 0.123456789}) {
    const double rank = static_cast<double>(static_cast<float>(q)) * static_cast<double>(n - 1);
    const auto below = static_cast<int64_t>(std::floor(rank)),
               above = static_cast<int64_t>(std::ceil(rank));
    const float w = static_cast<float>(rank - static_cast<double>(below));
    const double want =
        torch::lerp(torch::full({1}, v[below]), torch::full({1}, v[above]), torch::full({1}, w))
            .item<double>();
    EXPECT_TRUE(same(linear_quantile(x, q), want))
        << "q " << q << ": got " << linear_quantile(x, q) << ", sorted " << want;
  }
}

}  // namespace
