#include "tailedcore/data/augment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/data/transforms.h"
#include "testing.h"

using namespace tc::data;

namespace {

TEST(Augment, ViewCountsMatchTheReference) {
  EXPECT_EQ(augment_spec("rot15flip").views(), 47);
  EXPECT_EQ(augment_spec("rot30flip").views(), 23);
  EXPECT_EQ(augment_spec("rot45flip").views(), 15);
  EXPECT_EQ(augment_spec("rotflip").views(), 7);
  EXPECT_EQ(augment_spec("").views(), 0);
  EXPECT_EQ(view_sequence(augment_spec("rot30flip")).size(), 23u);
  EXPECT_EQ(view_sequence(augment_spec("rotflip")).front(), std::make_pair(int64_t{0}, true));
  EXPECT_THROW(augment_spec("rot10flip"), tc::Error);
}

TEST(Augment, QuarterTurnOfNearestRotationIsExact) {
  auto x = torch::arange(2 * 3 * 6 * 6, torch::kFloat32).view({2, 3, 6, 6});
  EXPECT_TRUE(torch::equal(rotate_nearest(x, 90), torch::rot90(x, 1, {2, 3})));
  EXPECT_TRUE(torch::equal(rotate_nearest(x, 180), torch::rot90(x, 2, {2, 3})));
  auto odd = torch::arange(25, torch::kFloat32).view({1, 1, 5, 5});
  EXPECT_TRUE(torch::equal(rotate_nearest(odd, 270), torch::rot90(odd, 3, {2, 3})));
  EXPECT_TRUE(torch::equal(rotate_nearest(odd, 0), odd));
}

TEST(Augment, SmallRotationKeepsTheCentreAndFillsCornersWithZero) {
  auto x = torch::ones({1, 1, 9, 9});
  auto r = rotate_nearest(x, 45);
  EXPECT_EQ(r[0][0][4][4].item<float>(), 1.f);
  EXPECT_EQ(r[0][0][0][0].item<float>(), 0.f);
}

TEST(Augment, PaddedRotationNeverShowsTheFillInsideTheCrop) {
  // A constant image: replicate padding + rotation + crop must stay constant.
  auto x = torch::full({1, 3, 256, 256}, 2.5f);
  auto spec = augment_spec("rot15flip");
  for (auto [angle, flip] : view_sequence(spec)) {
    auto v = make_view(x, spec, angle, flip, 224);
    ASSERT_EQ(v.sizes(), (std::vector<int64_t>{1, 3, 224, 224}));
    ASSERT_TRUE(torch::all(v == 2.5f).item<bool>()) << "angle " << angle << " flip " << flip;
  }
}

TEST(Augment, AngleZeroFlipIsTheMirroredCrop) {
  auto x = torch::rand({1, 3, 256, 256});
  auto spec = augment_spec("rot30flip");
  auto v = make_view(x, spec, 0, true, 224);
  EXPECT_TRUE(torch::equal(v, x.narrow(2, 16, 224).narrow(3, 16, 224).flip({3})));
  auto q =
      make_view(x.narrow(2, 16, 224).narrow(3, 16, 224), augment_spec("rotflip"), 180, false, 224);
  EXPECT_TRUE(torch::equal(q, torch::rot90(x.narrow(2, 16, 224).narrow(3, 16, 224), 2, {2, 3})));
}

// Native resolution (crop = kFullSize): every view keeps the image's own,
// non-square size, and the padding covers the rotated rectangle.
TEST(Augment, NativeViewsKeepANonSquareSizeAndNeverShowTheFill) {
  torch::manual_seed(3);
  const auto x = torch::rand({2, 3, 9, 20}) + 1;  // no pixel is 0, the rotation's fill
  const auto spec = augment_spec("rot15flip");
  for (auto [angle, flip] : view_sequence(spec)) {
    const auto v = make_view(x, spec, angle, flip, kFullSize);
    ASSERT_EQ(v.sizes(), x.sizes()) << "angle " << angle;
    EXPECT_TRUE(torch::all(v > 0).item<bool>()) << "angle " << angle << " flip " << flip;
  }
  EXPECT_TRUE(torch::equal(make_view(x, spec, 0, true, kFullSize), x.flip({3})));
  EXPECT_TRUE(torch::equal(make_view(x, spec, 180, false, kFullSize), x.flip({2, 3})));
  // A square crop of a native image is the usual view.
  EXPECT_EQ(make_view(x, spec, 30, false, 8).sizes(), (std::vector<int64_t>{2, 3, 8, 8}));
}

TEST(Augment, QuarterTurnsOfANonSquareImageAreRefused) {
  const auto x = torch::rand({1, 3, 5, 7});
  const auto e =
      tc::testing::error_of([&] { make_view(x, augment_spec("rotflip"), 90, false, kFullSize); });
  EXPECT_NE(e.find("needs a square image, got 5x7"), std::string::npos) << e;
  EXPECT_THROW(make_view(x, augment_spec("rot15flip"), 15, false, -1), tc::Error);
}

}  // namespace

namespace {

// Every output pixel takes the source pixel torchvision's F.rotate takes
// (nearest; the official tail views): images whose values are their pixel
// index + 1, non-square and odd sizes included
// (tests/fixtures/data/make_rotate_fixture.py).
TEST(Augment, RotationTakesTorchvisionsSourcePixels) {
  std::ifstream in(tc::testing::fixtures_dir() / "data" / "rotate_expected.txt");
  ASSERT_TRUE(in.good()) << "tests/fixtures/data/rotate_expected.txt is missing";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    int64_t h, w, angle;
    ls >> h >> w >> angle;
    std::vector<float> expected(static_cast<size_t>(h * w));
    for (auto& v : expected) ls >> v;
    const auto image = (torch::arange(h * w, torch::kFloat32) + 1).view({1, 1, h, w});
    const auto got = rotate_nearest(image, static_cast<double>(angle)).contiguous();
    const auto want = torch::from_blob(expected.data(), {1, 1, h, w}, torch::kFloat32);
    EXPECT_EQ((got != want).sum().item<int64_t>(), 0)
        << h << "x" << w << " at " << angle << " degrees";
    ++cases;
  }
  EXPECT_EQ(cases, 46);
}

}  // namespace

// rotflip on a non-square image: the views that keep its shape, in the
// reference's order (the 90 and 270 degree ones would change it).
TEST(Augment, RotflipOfANonSquareImageKeepsTheShapePreservingViews) {
  const auto spec = for_image_shape(augment_spec("rotflip"), 4, 6);
  EXPECT_FALSE(spec.quarter_turns);
  EXPECT_EQ(spec.views(), 3);
  const std::vector<std::pair<int64_t, bool>> want = {{0, true}, {180, false}, {180, true}};
  EXPECT_EQ(view_sequence(spec), want);
  const auto img = torch::arange(2 * 3 * 4 * 6, torch::kFloat32).view({2, 3, 4, 6});
  for (const auto& [angle, flip] : view_sequence(spec))
    EXPECT_EQ(make_view(img, spec, angle, flip, 0).sizes(), img.sizes()) << angle << " " << flip;
  // Square images, and the rot*flip types, keep every view.
  EXPECT_EQ(for_image_shape(augment_spec("rotflip"), 5, 5).views(), 7);
  EXPECT_EQ(for_image_shape(augment_spec("rot45flip"), 4, 6).views(), 15);
}
