#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "tailedcore/eval/anomaly_map.h"
#include "tailedcore/eval/metrics.h"
#include "tailedcore/eval/visualize.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

using namespace tc::eval;

namespace {

tc::io::H5Reader& fixture() {
  static tc::io::H5Reader r(tc::testing::fixtures_dir() / "eval" / "eval.h5");
  return r;
}

TEST(Metrics, ClosedFormCases) {
  auto labels = torch::tensor({0, 0, 1, 1}, torch::kUInt8);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.1f, 0.2f, 0.8f, 0.9f}), labels), 1.0);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.9f, 0.8f, 0.2f, 0.1f}), labels), 0.0);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.5f, 0.5f, 0.5f, 0.5f}), labels), 0.5);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.1f, 0.5f, 0.5f, 0.9f}), labels), 0.875);  // one tied pair
  EXPECT_TRUE(std::isnan(auroc(torch::tensor({0.1f, 0.2f}), torch::tensor({1, 1}, torch::kUInt8))));
  EXPECT_DOUBLE_EQ(f1_max(torch::tensor({0.1f, 0.2f, 0.8f, 0.9f}), labels), 1.0);
}

TEST(Metrics, MatchSklearnWithTies) {
  const auto s = fixture().read("auroc/scores"), y = fixture().read("auroc/labels");
  const auto want = fixture().read("auroc/expected");
  EXPECT_NEAR(auroc(s, y), want[0].item<double>(), 1e-12);
  EXPECT_NEAR(f1_max(s, y), want[1].item<double>(), 1e-12);
}

TEST(Metrics, AuproMatchesTheDefinition) {
  const auto want = fixture().read("aupro/expected")[0].item<double>();
  EXPECT_NEAR(aupro(fixture().read("aupro/maps"), fixture().read("aupro/masks")), want, 1e-9);
  // A region found perfectly before any false positive: PRO 1 at FPR 0.
  auto masks = torch::zeros({1, 10, 10}, torch::kUInt8);
  masks[0].narrow(0, 2, 3).narrow(1, 2, 3).fill_(1);
  EXPECT_NEAR(aupro(masks.to(torch::kFloat32), masks), 1.0, 1e-12);
}

TEST(AnomalyMap, MatchesTorchInterpolateAndScipyGaussian) {
  const auto maps = patch_scores_to_maps(fixture().read("maps/patch"), 56, 56);
  const auto want = fixture().read("maps/expected");
  EXPECT_LT((maps - want).abs().max().item<double>(), 1e-6);
}

TEST(Metrics, CsvHasOneRowPerClassAndAMean) {
  tc::testing::TempDir tmp;
  ClassMetrics a{"bottle", 90, 80, 70, 60, 50, 10}, b{"cable", 100, 90, NAN, 70, 60, 12};
  write_metrics_csv(tmp / "metrics.csv", {a, b});
  const auto text = tc::io::read_text(tmp / "metrics.csv");
  EXPECT_NE(text.find("class,image_auroc,pixel_auroc,aupro,image_f1_max,pixel_f1_max,n_images\n"), std::string::npos);
  EXPECT_NE(text.find("mean,95,85,70,65,55,22\n"), std::string::npos) << text;
}

TEST(Visualize, WritesThreePanels) {
  tc::testing::TempDir tmp;
  auto img = torch::zeros({3, 32, 40});
  auto mask = torch::zeros({32, 40}, torch::kUInt8);
  mask.narrow(0, 5, 5).narrow(1, 5, 5).fill_(1);
  write_overlay_png(tmp / "sub" / "x.png", img, mask, torch::rand({32, 40}), 0, 1);
  const cv::Mat png = cv::imread((tmp / "sub" / "x.png").string());
  ASSERT_FALSE(png.empty());
  EXPECT_EQ(png.cols, 120);
  EXPECT_EQ(png.rows, 32);
}

}  // namespace

// A NaN score once stalled the tie walk of auroc / f1_max forever; now every
// metric refuses non-finite input with one line.
TEST(Metrics, NonFiniteScoresAreAnErrorNotAHang) {
  const auto labels = torch::tensor({0, 1, 0, 1}, torch::kUInt8);
  const auto nan_scores = torch::tensor({0.1f, NAN, 0.3f, 0.9f});
  EXPECT_NE(tc::testing::error_of([&] { auroc(nan_scores, labels); }).find("score 1 of 4 is nan"),
            std::string::npos);
  EXPECT_NE(tc::testing::error_of([&] { f1_max(nan_scores, labels); }).find("expected finite"),
            std::string::npos);
  EXPECT_NE(tc::testing::error_of([&] { auroc(torch::tensor({INFINITY, 0.f, 1.f, 2.f}), labels) ; })
                .find("is inf"),
            std::string::npos);
  auto maps = torch::rand({2, 8, 8});
  auto masks = torch::zeros({2, 8, 8}, torch::kUInt8);
  masks[1].narrow(0, 2, 3).fill_(1);
  maps[1][4][4] = NAN;
  EXPECT_NE(tc::testing::error_of([&] { aupro(maps, masks); }).find("anomaly map 1 of 2"),
            std::string::npos);
}
