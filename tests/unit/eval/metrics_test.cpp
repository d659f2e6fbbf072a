#include "tailedcore/eval/metrics.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "tailedcore/core/csv.h"
#include "tailedcore/eval/anomaly_map.h"
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
  EXPECT_NE(text.find("class,image_auroc,pixel_auroc,aupro,image_f1_max,pixel_f1_max,n_images\n"),
            std::string::npos);
  EXPECT_NE(text.find("mean,95,85,70,65,55,22\n"), std::string::npos) << text;
}

// RFC 4180: a class name with a comma, a quote or a newline is quoted, and
// the file reads back (core::parse_csv) with one cell per column.
TEST(Metrics, CsvQuotesClassNames) {
  tc::testing::TempDir tmp;
  ClassMetrics a{"a,b", 90, 80, 70, 60, 50, 10}, b{"say \"hi\"", 100, 90, 80, 70, 60, 12};
  write_metrics_csv(tmp / "metrics.csv", {a, b});
  const auto text = tc::io::read_text(tmp / "metrics.csv");
  EXPECT_NE(text.find("\n\"a,b\",90,"), std::string::npos) << text;
  EXPECT_NE(text.find("\n\"say \"\"hi\"\"\",100,"), std::string::npos) << text;
  const auto records = tc::core::parse_csv(text, "metrics.csv");
  ASSERT_EQ(records.size(), 4u);
  for (const auto& r : records) EXPECT_EQ(r.cells.size(), 7u) << r.line;
  EXPECT_EQ(records[1].cells[0], "a,b");
  EXPECT_EQ(records[2].cells[0], "say \"hi\"");
}

// One rule for means over classes (metrics.csv, report.md, the console):
// over the classes where the metric is defined, counting those left out.
TEST(Metrics, MeanOfDefinedLeavesNanOutAndCountsIt) {
  const auto m = mean_of_defined({90, NAN, 70});
  EXPECT_DOUBLE_EQ(m.mean, 80);
  EXPECT_EQ(m.used, 2);
  EXPECT_EQ(m.left_out, 1);
  const auto none = mean_of_defined({NAN});
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_EQ(none.left_out, 1);
}

// A class whose test images are all good (or all defective), or whose masks
// mark no pixel as a defect, has undefined (NaN) metrics: the result says why.
TEST(Metrics, UndefinedMetricsSayWhy) {
  const auto maps = torch::rand({4, 8, 8});
  auto masks = torch::zeros({4, 8, 8}, torch::kUInt8);
  masks[2].narrow(0, 2, 3).fill_(1);
  const auto scores = torch::rand({4});
  const auto mixed = torch::tensor({0, 0, 1, 1}, torch::kUInt8);
  EXPECT_EQ(evaluate_class("c", scores, mixed, maps, masks).undefined, "");

  const auto all_good =
      evaluate_class("c", scores, torch::zeros({4}, torch::kUInt8), maps, torch::zeros_like(masks));
  EXPECT_TRUE(std::isnan(all_good.image_auroc) && std::isnan(all_good.pixel_auroc) &&
              std::isnan(all_good.aupro));
  EXPECT_NE(
      all_good.undefined.find("image AUROC and image F1-max undefined: all 4 test images are good"),
      std::string::npos)
      << all_good.undefined;
  EXPECT_NE(all_good.undefined.find(
                "pixel AUROC, AUPRO and pixel F1-max undefined: no mask pixel marks a defect"),
            std::string::npos)
      << all_good.undefined;

  const auto all_bad = evaluate_class("c", scores, torch::ones({4}, torch::kUInt8), maps, masks);
  EXPECT_TRUE(std::isnan(all_bad.image_auroc));
  EXPECT_EQ(all_bad.undefined,
            "image AUROC undefined: all 4 test images are defective (no good image)");

  // Masks of 0/1 labels that were never binarised to 0/255 read as empty (SPEC 6: defect == 255).
  const auto no_defect_pixels = evaluate_class("c", scores, mixed, maps, torch::zeros_like(masks));
  EXPECT_TRUE(std::isnan(no_defect_pixels.pixel_auroc));
  EXPECT_NE(no_defect_pixels.undefined.find("masks of 0/1 or grey values read as empty"),
            std::string::npos);
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
  EXPECT_NE(tc::testing::error_of([&] {
              auroc(torch::tensor({INFINITY, 0.f, 1.f, 2.f}), labels);
            }).find("is inf"),
            std::string::npos);
  auto maps = torch::rand({2, 8, 8});
  auto masks = torch::zeros({2, 8, 8}, torch::kUInt8);
  masks[1].narrow(0, 2, 3).fill_(1);
  maps[1][4][4] = NAN;
  EXPECT_NE(tc::testing::error_of([&] { aupro(maps, masks); }).find("anomaly map 1 of 2"),
            std::string::npos);
}
