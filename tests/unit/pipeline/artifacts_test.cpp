// scores.h5 keeps the maps the metrics are computed from: raw squared
// distances above float16's largest value (65,504) and float32 values that
// float16 would round to ties must come back exactly.
#include "tailedcore/pipeline/artifacts.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/eval/metrics.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace {

using tc::models::ClassPredictions;

// Two 8 x 8 images: image 0 normal, image 1 all defect. Normal pixels hold
// 70000 + 2j, defect pixels 70001 + 2j (j = 0..63): every value overflows
// float16, and the pairs (pos j, neg i) with pos > neg are those with i <= j,
// so the exact pixel AUROC is (64 * 65 / 2) / 64^2 = 65 / 128.
ClassPredictions above_float16_range() {
  ClassPredictions p;
  p.class_name = "bottle";
  const auto j = torch::arange(64, torch::kFloat32).view({8, 8});
  p.maps = torch::stack({70000 + 2 * j, 70001 + 2 * j});
  p.image_scores = std::get<0>(p.maps.flatten(1).max(1));  // 70126, 70127
  p.labels = torch::tensor({0, 1}, torch::kUInt8);
  p.masks = torch::stack({torch::zeros({8, 8}, torch::kUInt8), torch::ones({8, 8}, torch::kUInt8)});
  p.image_paths = {"test/good/000.png", "test/crack/000.png"};
  return p;
}

TEST(ScoresFile, MapsAboveTheFloat16RangeComeBackExactlyAndKeepTheirMetrics) {
  const auto p = above_float16_range();
  // The test has teeth: through float16 every value is inf, which the
  // metrics now refuse (before, the ranks all tied: pixel AUROC 50).
  ASSERT_TRUE(torch::isinf(p.maps.to(torch::kHalf)).all().item<bool>());
  EXPECT_ANY_THROW(tc::eval::auroc(p.maps.to(torch::kHalf).flatten(), p.masks.flatten()));

  tc::testing::TempDir dir;
  {
    tc::io::H5Writer w(dir / "scores.h5", "scores", "hash");
    tc::pipeline::write_class_predictions(w, p);
    w.commit();
  }
  tc::io::H5Reader r(dir / "scores.h5");
  EXPECT_EQ(r.dtype("bottle/anomaly_maps"), tc::io::DType::kFloat32);
  const auto back = tc::pipeline::read_class_predictions(r, "bottle");
  EXPECT_TRUE(torch::equal(back.maps, p.maps));
  EXPECT_TRUE(torch::equal(back.image_scores, p.image_scores));
  EXPECT_TRUE(torch::equal(back.masks, p.masks));
  EXPECT_EQ(back.image_paths, p.image_paths);

  const auto m =
      tc::eval::evaluate_class("bottle", back.image_scores, back.labels, back.maps, back.masks);
  EXPECT_DOUBLE_EQ(m.pixel_auroc, 100.0 * 65.0 / 128.0);
  EXPECT_DOUBLE_EQ(m.image_auroc, 100.0);
}

// Below the overflow, float16's 11-bit mantissa still merges neighbours:
// 1000 and 1000.25 are one value in float16 (spacing 0.5 there).
TEST(ScoresFile, NeighbouringValuesFloat16WouldTieStayDistinct) {
  ClassPredictions p = above_float16_range();
  p.maps = torch::full({2, 8, 8}, 1000.0f);
  p.maps[1] = 1000.25f;
  ASSERT_EQ(p.maps.to(torch::kHalf)[0][0][0].item<float>(),
            p.maps.to(torch::kHalf)[1][0][0].item<float>());
  tc::testing::TempDir dir;
  {
    tc::io::H5Writer w(dir / "scores.h5", "scores", "hash");
    tc::pipeline::write_class_predictions(w, p);
    w.commit();
  }
  const auto back =
      tc::pipeline::read_class_predictions(tc::io::H5Reader(dir / "scores.h5"), "bottle");
  EXPECT_DOUBLE_EQ(tc::eval::auroc(back.maps.flatten(), back.masks.flatten()), 1.0);
}

// features.h5's grids: one grid as the attributes files before mixed sizes
// have (and h5py readers know), several as /grids; both read back alike, and
// grids that do not add up to the rows are an error naming the file.
TEST(FeaturesFile, GridsRoundTripAsAttributesOrDataset) {
  tc::testing::TempDir dir;
  const auto one = tc::core::PatchGrids::uniform(3, 2, 5);
  const auto mixed = tc::core::PatchGrids::of(torch::tensor({2, 5, 3, 3, 2, 5}).view({3, 2}));
  for (const auto& [name, grids] :
       {std::make_pair("one.h5", one), std::make_pair("mixed.h5", mixed)}) {
    tc::io::H5Writer w(dir / name, "features", "k");
    tc::pipeline::write_grids(w, grids);
    w.commit();
  }
  const tc::io::H5Reader a(dir / "one.h5"), b(dir / "mixed.h5");
  EXPECT_EQ(a.attr_int("feature_h"), 2);
  EXPECT_EQ(a.attr_int("feature_w"), 5);
  EXPECT_FALSE(a.has("grids"));
  EXPECT_FALSE(b.has_attr("feature_h"));
  EXPECT_TRUE(torch::equal(b.read("grids"), mixed.hw()));
  EXPECT_TRUE(torch::equal(tc::pipeline::read_grids(a, 30, "test").hw(), one.hw()));
  EXPECT_TRUE(torch::equal(tc::pipeline::read_grids(b, 29, "test").hw(), mixed.hw()));
  const auto e = tc::testing::error_of([&] { tc::pipeline::read_grids(b, 30, "test"); });
  EXPECT_NE(e.find("mixed.h5: /grids gives 3 images of 29 patches in all: expected the 30 rows"),
            std::string::npos)
      << e;
  const auto e2 = tc::testing::error_of([&] { tc::pipeline::read_grids(a, 31, "test"); });
  EXPECT_NE(e2.find("31 rows: expected a whole number of images"), std::string::npos) << e2;
}

}  // namespace
