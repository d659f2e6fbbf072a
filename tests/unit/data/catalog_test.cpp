// The catalog and the batch loader on small trees written in the test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/loader.h"
#include "testing.h"

namespace fs = std::filesystem;
using namespace tc::data;

namespace {

void png(const fs::path& p, int side, int value = 128, int channels = 3) {
  fs::create_directories(p.parent_path());
  cv::imwrite(p.string(), cv::Mat(side, side, channels == 3 ? CV_8UC3 : CV_8U, cv::Scalar::all(value)));
}

// <root>/<cls>/train/good/{000,001}.png, test/good/000.png, test/crack/000.png + mask
void make_class(const fs::path& root, const std::string& cls, int mask_side = 32) {
  png(root / cls / "train/good/001.png", 32);
  png(root / cls / "train/good/000.png", 32);
  png(root / cls / "test/good/000.png", 32);
  png(root / cls / "test/crack/000.png", 32);
  cv::Mat m(mask_side, mask_side, CV_8U, cv::Scalar(0));
  m(cv::Rect(4, 4, 8, 8)).setTo(255);
  fs::create_directories(root / cls / "ground_truth/crack");
  cv::imwrite((root / cls / "ground_truth/crack/000_mask.png").string(), m);
}

using tc::testing::error_of;

TEST(Catalog, PoolsClassesInSortedOrderAndPairsMasksByIndex) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "zipper");
  make_class(tmp.path(), "bottle");
  fs::create_directories(tmp / "manifest");  // not a class: no train/ or test/
  const auto c = Catalog::scan(tmp.path());
  EXPECT_EQ(c.classes(), (std::vector<std::string>{"bottle", "zipper"}));
  const auto pool = c.train_pool();
  ASSERT_EQ(pool.size(), 4u);
  EXPECT_EQ(fs::path(pool[0].path).filename(), "000.png");
  EXPECT_EQ(pool[2].class_name, "zipper");
  const auto test = c.test_set("bottle");
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].category, "crack");  // categories sorted: crack < good
  EXPECT_TRUE(test[0].is_anomaly);
  EXPECT_EQ(fs::path(test[0].mask_path).filename(), "000_mask.png");
  EXPECT_FALSE(test[1].is_anomaly);
}

TEST(Catalog, BadTreesAreOneLineErrorsNamingTheFolder) {
  tc::testing::TempDir tmp;
  EXPECT_NE(error_of([&] { Catalog::scan(tmp / "absent"); }).find("absent: data folder does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("no class folders"), std::string::npos);
  fs::create_directories(tmp / "cable/train/good");
  fs::create_directories(tmp / "cable/test/good");
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("cable/train/good: empty"), std::string::npos);
  fs::remove_all(tmp / "cable");
  fs::create_directories(tmp / "cable/test/good");
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("cable/train/good: missing"), std::string::npos);
  fs::remove_all(tmp / "cable");
  make_class(tmp.path(), "cable");
  fs::remove(tmp / "cable/ground_truth/crack/000_mask.png");
  const auto e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("crack/000.png: no mask: expected"), std::string::npos) << e;
}

TEST(BatchLoader, BatchesInOrderWithMasksAndZeroMasksForGoodImages) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "bottle");
  const auto test = Catalog::scan(tmp.path()).test_set("bottle");
  BatchLoader loader(test, {32, 28}, 1, true, 2);
  EXPECT_EQ(loader.num_batches(), 2);
  auto b0 = loader.next();
  ASSERT_TRUE(b0.has_value());
  EXPECT_EQ(b0->images.sizes(), (std::vector<int64_t>{1, 3, 28, 28}));
  EXPECT_EQ(b0->indices, std::vector<int64_t>{0});
  EXPECT_EQ(b0->masks.sum().item<int64_t>(), 64);  // the 8 x 8 square survives the crop
  auto b1 = loader.next();
  ASSERT_TRUE(b1.has_value());
  EXPECT_EQ(b1->masks.sum().item<int64_t>(), 0);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(BatchLoader, MaskOfAnotherSizeAndTruncatedImagesAreErrorsNamingTheFiles) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "bottle", /*mask_side=*/40);
  const auto test = Catalog::scan(tmp.path()).test_set("bottle");
  BatchLoader loader(test, {32, 28}, 2, true, 1);
  const auto e = error_of([&] { loader.next(); });
  EXPECT_NE(e.find("000_mask.png: mask is 40x40 but its image"), std::string::npos) << e;
  EXPECT_NE(e.find("is 32x32: expected the same size"), std::string::npos) << e;
  std::ofstream(tmp / "bottle/train/good/000.png", std::ios::trunc) << "\x89PNG\r\n";
  BatchLoader train(Catalog::scan(tmp.path()).train_pool(), {32, 28}, 2, false, 2);
  const auto t = error_of([&] { train.next(); });
  EXPECT_NE(t.find("train/good/000.png: cannot decode image"), std::string::npos) << t;
}

}  // namespace
