#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/eval/anomaly_map.h"
#include "tailedcore/eval/metrics.h"
#include "tailedcore/eval/normalize.h"

using namespace tc::eval;

namespace {

TEST(Normalize, MinMaxOverTheWholeClass) {
  const auto y = min_max_normalize(torch::tensor({2.0f, 4.0f, 6.0f}));
  EXPECT_FLOAT_EQ(y[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[1].item<float>(), static_cast<float>(2 / (4 + 1e-5)));
  EXPECT_FLOAT_EQ(y[2].item<float>(), static_cast<float>(4 / (4 + 1e-5)));
  // Maps: one min and one max over all pixels of all images, not per image.
  const auto maps = torch::stack({torch::full({2, 2}, 1.0f), torch::full({2, 2}, 3.0f)});
  const auto m = min_max_normalize(maps);
  EXPECT_EQ(m.sizes(), maps.sizes());
  EXPECT_FLOAT_EQ(m[0][1][1].item<float>(), 0.0f);
  EXPECT_NEAR(m[1][0][0].item<float>(), 1.0, 1e-5);
  EXPECT_EQ(min_max_normalize(torch::empty({0})).numel(), 0);
}

TEST(Metrics, AuproRegionsAreEightConnected) {
  // A 2x2 square and one pixel touching it only at a corner: ONE region of 5
  // pixels under scipy.ndimage.label with a 3x3 structure.
  auto masks = torch::zeros({1, 8, 8}, torch::kUInt8);
  masks[0].narrow(0, 1, 2).narrow(1, 1, 2).fill_(1);
  masks[0][3][3] = 1;
  auto maps = torch::zeros({1, 8, 8});
  maps[0][3][3] = 1.0f;  // only the corner pixel is found before any false positive
  // PRO is 1/5 at FPR 0, then the remaining pixels are tied at 0 and come in
  // together: the segment goes to (1, 1); at FPR 0.3, PRO = 0.2 + 0.8 * 0.3 = 0.44.
  // Area / 0.3 = (0.2 + 0.44) / 2 = 0.32. (4-connected regions would give 0.575.)
  EXPECT_NEAR(aupro(maps, masks), 0.32, 1e-12);
}

TEST(Metrics, AuproWithoutRegionsIsNan) {
  EXPECT_TRUE(std::isnan(aupro(torch::rand({2, 4, 4}), torch::zeros({2, 4, 4}, torch::kUInt8))));
}

TEST(Metrics, PixelAurocMatchesRankFormulaOnLargeTiedInput) {
  // Mann-Whitney form (ties count 1/2) computed independently in float64 from
  // counts per quantised level, on 2 x 64 x 64 pixels with heavy ties.
  torch::manual_seed(3);
  const auto levels = torch::randint(0, 50, {2, 64, 64}, torch::kInt64);
  const auto masks = (torch::rand({2, 64, 64}) < 0.1).to(torch::kUInt8);
  const auto maps = (levels.to(torch::kFloat32) + masks.to(torch::kFloat32) * 5) / 7;
  const auto key = (levels + masks.to(torch::kInt64) * 5).flatten();
  const auto lab = masks.flatten().to(torch::kBool);
  const auto pos_hist = torch::bincount(key.masked_select(lab), {}, 60).to(torch::kFloat64);
  const auto neg_hist = torch::bincount(key.masked_select(~lab), {}, 60).to(torch::kFloat64);
  const auto neg_below = torch::cumsum(neg_hist, 0) - neg_hist;
  const double num = (pos_hist * (neg_below + 0.5 * neg_hist)).sum().item<double>();
  const double want = num / (pos_hist.sum().item<double>() * neg_hist.sum().item<double>());
  EXPECT_NEAR(auroc(maps, masks), want, 1e-12);
}

}  // namespace
