// The report's charts: real PNG files read back with OpenCV.
#include "tailedcore/eval/charts.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "testing.h"

using namespace tc::eval;
using tc::testing::error_of;

namespace {

// Pixels of exactly the series colour (BGR in the file).
int count_colour(const cv::Mat& img, const Rgb& c) {
  int n = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const auto p = img.at<cv::Vec3b>(y, x);
      n += p[0] == c[2] && p[1] == c[1] && p[2] == c[0];
    }
  return n;
}

TEST(Charts, BarsAreAsTallAsTheirValues) {
  tc::testing::TempDir tmp;
  write_bar_chart(tmp / "bars.png", "image AUROC", {"a", "b"},
                  {{"low", {50, 60}}, {"high", {100, NAN}}}, 0, 100, "AUROC", {true, false},
                  "* tail");
  const cv::Mat img = cv::imread((tmp / "bars.png").string());
  ASSERT_FALSE(img.empty());
  // Bars of equal width: "high" has one bar of 100, "low" two of 50 and 60: 100 vs 110 units of
  // height.
  const int low = count_colour(img, series_colour(0)), high = count_colour(img, series_colour(1));
  EXPECT_GT(low, 0);
  EXPECT_NEAR(static_cast<double>(high) / low, 100.0 / 110.0, 0.08) << high << " " << low;
  EXPECT_NE(error_of([&] {
              write_bar_chart(tmp / "x.png", "t", {"a"}, {{"s", {1, 2}}}, 0, 1, "y");
            }).find("series 's' has 2 values for 1 categories"),
            std::string::npos);
}

TEST(Charts, ScatterAndMapComparisonWritePictures) {
  tc::testing::TempDir tmp;
  write_scatter_log2(tmp / "sizes.png", "class sizes", "true", "estimated",
                     {{"tail", {5, 5}, {4, 5}}, {"head", {300}, {250}}});
  const cv::Mat s = cv::imread((tmp / "sizes.png").string());
  ASSERT_FALSE(s.empty());
  EXPECT_GT(count_colour(s, series_colour(0)), 0);
  EXPECT_GT(count_colour(s, series_colour(1)), 0);

  const auto image = torch::zeros({3, 32, 32});
  auto mask = torch::zeros({32, 32}, torch::kUInt8);
  mask.narrow(0, 8, 8).narrow(1, 8, 8).fill_(1);
  const auto map = torch::rand({32, 32});
  write_map_comparison_png(tmp / "maps.png", "a: broken/000.png", image, mask,
                           {{"patchcore", map, 0.9, 0, 1}, {"tailedcore", map * 2, 1.5, 0, 2}},
                           128);
  const cv::Mat m = cv::imread((tmp / "maps.png").string());
  ASSERT_FALSE(m.empty());
  EXPECT_GE(m.cols, 4 * 128);  // image, ground truth and two maps of 128 px
  EXPECT_GE(m.rows, 128);
  EXPECT_NE(error_of([&] {
              write_map_comparison_png(tmp / "bad.png", "", image, mask,
                                       {{"x", torch::rand({16, 16}), 0, 0, 1}});
            }).find("map of 'x' is [16, 16]: expected [32, 32]"),
            std::string::npos);
}

}  // namespace
