// Images kept at their own size (kFullSize): no resize, no crop, non-square
// tensors, masks alike; and the check that a list of images shares one size.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/data/loader.h"
#include "tailedcore/data/transforms.h"
#include "testing.h"

namespace fs = std::filesystem;
using namespace tc::data;
using tc::testing::error_of;

namespace {

const TransformOptions kNative{kFullSize, kFullSize};

// A w x h RGB image whose pixel (x, y) has levels (x * 13 + y, y * 17, 200 - x - y), as PNG.
cv::Mat write_rgb(const fs::path& p, int w, int h) {
  fs::create_directories(p.parent_path());
  cv::Mat rgb(h, w, CV_8UC3), bgr(h, w, CV_8UC3);  // OpenCV writes BGR
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const cv::Vec3b v(x * 13 + y, y * 17, 200 - x - y);
      rgb.at<cv::Vec3b>(y, x) = v;
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(v[2], v[1], v[0]);
    }
  EXPECT_TRUE(cv::imwrite(p.string(), bgr)) << p;
  return rgb;
}

// A w x h mask: 255 on the rectangle [x0, x0 + rw) x [y0, y0 + rh), 0 elsewhere.
void write_mask(const fs::path& p, int w, int h, cv::Rect r) {
  fs::create_directories(p.parent_path());
  cv::Mat m(h, w, CV_8U, cv::Scalar(0));
  m(r).setTo(255);
  EXPECT_TRUE(cv::imwrite(p.string(), m)) << p;
}

// torchvision's ToTensor + Normalize of one level, in float32 as it computes it.
float normalized(int level, int c) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  return (static_cast<float>(level) / 255.0f - mean[c]) / std[c];
}

TEST(NativeSize, ImageKeepsItsOwnNonSquareSize) {
  tc::testing::TempDir tmp;
  const cv::Mat rgb = write_rgb(tmp / "a.png", 7, 5);
  const auto t = load_image((tmp / "a.png").string(), kNative);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 5, 7}));
  const auto a = t.accessor<float, 3>();
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(a[c][y][x], normalized(rgb.at<cv::Vec3b>(y, x)[c], c))
            << x << "," << y << "," << c;
}

TEST(NativeSize, CropWithoutResizeIsTheCentreOfTheOwnSize) {
  tc::testing::TempDir tmp;
  write_rgb(tmp / "a.png", 7, 5);
  const auto full = load_image((tmp / "a.png").string(), kNative);
  const auto crop = load_image((tmp / "a.png").string(), {kFullSize, 4});
  // torchvision: top = round((5 - 4) / 2) = 0, left = round((7 - 4) / 2) = 2 (half to even).
  ASSERT_EQ(crop.sizes(), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_TRUE(torch::equal(crop, full.narrow(1, 0, 4).narrow(2, 2, 4)));
  const auto e = error_of([&] { load_image((tmp / "a.png").string(), {kFullSize, 6}); });
  EXPECT_NE(e.find("image 7x5 is smaller than the crop 6"), std::string::npos) << e;
}

TEST(NativeSize, NegativeSizesAreRefused) {
  tc::testing::TempDir tmp;
  write_rgb(tmp / "a.png", 7, 5);
  auto e = error_of([&] { load_image((tmp / "a.png").string(), {-1, kFullSize}); });
  EXPECT_NE(e.find("resize -1: expected"), std::string::npos) << e;
  e = error_of([&] { load_image((tmp / "a.png").string(), {kFullSize, -3}); });
  EXPECT_NE(e.find("crop -3: expected"), std::string::npos) << e;
}

TEST(NativeSize, MaskKeepsItsOwnSizeLikeItsImage) {
  tc::testing::TempDir tmp;
  write_mask(tmp / "m.png", 9, 4, cv::Rect(6, 1, 2, 3));
  // As the loader transforms a mask.
  const auto m = binarize_mask(resize_and_crop(decode_gray((tmp / "m.png").string()), kNative));
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{4, 9}));
  auto want = torch::zeros({4, 9}, torch::kUInt8);
  want.narrow(0, 1, 3).narrow(1, 6, 2).fill_(1);
  EXPECT_TRUE(torch::equal(m, want));
}

// The loader at native size: non-square batches, each mask on its image's grid,
// a good image's zero mask of the image's size.
TEST(NativeSize, LoaderBatchesNonSquareImagesWithTheirMasks) {
  tc::testing::TempDir tmp;
  const fs::path cls = tmp / "bottle";
  write_rgb(cls / "train/good/000.png", 12, 8);
  write_rgb(cls / "test/good/000.png", 12, 8);
  const cv::Mat bad = write_rgb(cls / "test/crack/000.png", 12, 8);
  write_mask(cls / "ground_truth/crack/000_mask.png", 12, 8, cv::Rect(9, 2, 3, 5));
  const auto test = Catalog::scan(tmp.path()).test_set("bottle");
  BatchLoader loader(test, kNative, 2, /*with_masks=*/true, 2);
  auto b = loader.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->images.sizes(), (std::vector<int64_t>{2, 3, 8, 12}));
  ASSERT_EQ(b->masks.sizes(), (std::vector<int64_t>{2, 8, 12}));
  // Records: crack first (categories sorted), then good.
  EXPECT_EQ(b->masks[0].sum().item<int64_t>(), 15);
  EXPECT_EQ(b->masks[0].narrow(0, 2, 5).narrow(1, 9, 3).sum().item<int64_t>(), 15);
  EXPECT_EQ(b->masks[1].sum().item<int64_t>(), 0);
  EXPECT_EQ(b->images[0][1][7][11].item<float>(), normalized(bad.at<cv::Vec3b>(7, 11)[1], 1));
  EXPECT_FALSE(loader.next().has_value());
}

// Images of several sizes (a pooled set at native size): a batch holds one
// size, cut where the size changes, in record order.
TEST(NativeSize, LoaderCutsABatchWhereTheSizeChanges) {
  tc::testing::TempDir tmp;
  std::vector<ImageRecord> records;
  const std::vector<std::pair<int, int>> sizes = {{12, 8}, {12, 8}, {12, 8},
                                                  {6, 6},  {12, 8}, {12, 8}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto p = tmp / ("train/" + std::to_string(i) + ".png");
    write_rgb(p, sizes[i].first, sizes[i].second);
    records.push_back({p.string(), "c", "good", "", false});
  }
  BatchLoader loader(records, kNative, 2, false, 2);
  std::vector<std::vector<int64_t>> got;
  while (auto b = loader.next()) {
    EXPECT_EQ(b->images.size(0), static_cast<int64_t>(b->indices.size()));
    EXPECT_EQ(b->images.size(2), sizes[b->indices[0]].second);
    got.push_back(b->indices);
  }
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{{0, 1}, {2}, {3}, {4, 5}}));
}

TEST(NativeSize, TransformedSizeFromTheHeader) {
  tc::testing::TempDir tmp;
  write_rgb(tmp / "a.png", 12, 8);
  const auto p = (tmp / "a.png").string();
  EXPECT_EQ(transformed_size(p, kNative), (std::pair<int, int>{12, 8}));
  EXPECT_EQ(transformed_size(p, {4, kFullSize}), (std::pair<int, int>{6, 4}));
  EXPECT_EQ(transformed_size(p, {kFullSize, 5}), (std::pair<int, int>{5, 5}));
}

TEST(NativeSize, CommonImageSizeOfEqualImages) {
  tc::testing::TempDir tmp;
  write_rgb(tmp / "a.png", 12, 8);
  write_rgb(tmp / "b.png", 12, 8);
  cv::imwrite((tmp / "c.jpg").string(), cv::Mat(8, 12, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_EQ(common_image_size(
                {(tmp / "a.png").string(), (tmp / "b.png").string(), (tmp / "c.jpg").string()}),
            (std::pair<int, int>{12, 8}));
}

TEST(NativeSize, CommonImageSizeNamesTwoImagesOfDifferentSizes) {
  tc::testing::TempDir tmp;
  write_rgb(tmp / "a.png", 12, 8);
  write_rgb(tmp / "b.png", 12, 8);
  write_rgb(tmp / "c.png", 8, 12);  // the same pixels count, transposed
  write_rgb(tmp / "d.png", 5, 5);
  const std::vector<std::string> paths = {(tmp / "a.png").string(), (tmp / "b.png").string(),
                                          (tmp / "c.png").string(), (tmp / "d.png").string()};
  const auto e = error_of([&] { common_image_size(paths); });
  EXPECT_NE(e.find(paths[2] + ": image is 8x12 but " + paths[0] + " is 12x8"), std::string::npos)
      << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_NE(error_of([&] { common_image_size({}); }).find("no images"), std::string::npos);
  EXPECT_NE(
      error_of([&] { common_image_size({(tmp / "missing.png").string()}); }).find("missing.png"),
      std::string::npos);
}

}  // namespace
