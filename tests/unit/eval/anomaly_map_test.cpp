// Anomaly maps of non-square grids and images: the upsampling and the blur
// keep h and w apart (the square case is checked against scipy in metrics_test).
#include "tailedcore/eval/anomaly_map.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

using namespace tc::eval;

namespace {

// scipy.ndimage.gaussian_filter(mode="reflect", truncate=4) written out in 2-D:
// the edge-repeating reflection has period 2n (d c b a | a b c d | d c b a).
torch::Tensor naive_blur(const torch::Tensor& map, double sigma) {
  const int64_t H = map.size(0), W = map.size(1), r = static_cast<int64_t>(4.0 * sigma + 0.5);
  std::vector<double> k(2 * r + 1);
  double sum = 0;
  for (int64_t t = -r; t <= r; ++t) sum += k[t + r] = std::exp(-0.5 * t * t / (sigma * sigma));
  for (auto& v : k) v /= sum;
  const auto at = [](int64_t i, int64_t n) {
    const int64_t m = ((i % (2 * n)) + 2 * n) % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  };
  const auto x = map.to(torch::kFloat64);
  auto out = torch::zeros({H, W}, torch::kFloat64);
  auto a = x.accessor<double, 2>();
  auto o = out.accessor<double, 2>();
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j)
      for (int64_t u = -r; u <= r; ++u)
        for (int64_t v = -r; v <= r; ++v)
          o[i][j] += k[u + r] * k[v + r] * a[at(i + u, H)][at(j + v, W)];
  return out.to(torch::kFloat32);
}

TEST(AnomalyMap, BlurOfANonSquareMapIsTheTwoDimensionalFilter) {
  torch::manual_seed(1);
  const auto maps = torch::rand({2, 5, 11});
  for (double sigma : {0.5, 1.0, 4.0}) {  // sigma 4: the radius (16) wraps both sides several times
    const auto got = gaussian_blur(maps, sigma);
    ASSERT_EQ(got.sizes(), maps.sizes());
    for (int64_t n = 0; n < 2; ++n)
      EXPECT_LT((got[n] - naive_blur(maps[n], sigma)).abs().max().item<double>(), 1e-6) << sigma;
  }
}

TEST(AnomalyMap, A2x3GridUpsamplesToANonSquareImage) {
  torch::manual_seed(2);
  const auto scores = torch::rand({3, 2, 3});
  const auto maps = patch_scores_to_maps(scores, 16, 24);
  ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{3, 16, 24}));
  // Transposing the grid transposes the map (bilinear and the blur are symmetric in h and w).
  const auto t = patch_scores_to_maps(scores.transpose(1, 2).contiguous(), 24, 16);
  EXPECT_LT((t.transpose(1, 2) - maps).abs().max().item<double>(), 1e-6);
  // A grid constant along w stays constant along w.
  const auto rows = torch::tensor({1.f, 5.f}).view({1, 2, 1}).expand({1, 2, 3}).contiguous();
  const auto m = patch_scores_to_maps(rows, 16, 24, 1.0);
  EXPECT_LT((m - m.narrow(2, 0, 1)).abs().max().item<double>(), 1e-6);
  EXPECT_LT(m[0][0][0].item<float>(), m[0][15][0].item<float>());
}

}  // namespace
