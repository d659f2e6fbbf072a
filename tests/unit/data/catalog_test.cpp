// The catalog and the batch loader on small trees written in the test.
#include "tailedcore/data/catalog.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>

#include "tailedcore/core/check.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/data/loader.h"
#include "testing.h"

namespace fs = std::filesystem;
using namespace tc::data;

namespace {

void png(const fs::path& p, int side, int value = 128, int channels = 3) {
  fs::create_directories(p.parent_path());
  cv::imwrite(p.string(),
              cv::Mat(side, side, channels == 3 ? CV_8UC3 : CV_8U, cv::Scalar::all(value)));
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
  std::ofstream(tmp / "manifest/recipe.txt") << "x";
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
  EXPECT_NE(
      error_of([&] { Catalog::scan(tmp / "absent"); }).find("absent: data folder does not exist"),
      std::string::npos);
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("no class folders"),
            std::string::npos);
  fs::create_directories(tmp / "cable/train/good");
  fs::create_directories(tmp / "cable/test/good");
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("cable/train/good: empty"),
            std::string::npos);
  fs::remove_all(tmp / "cable");
  fs::create_directories(tmp / "cable/test/good");
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("cable/train/good: missing"),
            std::string::npos);
  fs::remove_all(tmp / "cable");
  fs::create_directories(tmp / "cable");
  EXPECT_NE(error_of([&] { Catalog::scan(tmp.path()); }).find("cable: empty class folder"),
            std::string::npos);
  fs::remove_all(tmp / "cable");
  make_class(tmp.path(), "cable");
  EXPECT_NE(error_of([&] {
              Catalog::scan(tmp.path()).test_set("bottle");
            }).find("class 'bottle' does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              Catalog::scan(tmp.path()).train_set("bottle");
            }).find("class 'bottle' does not exist"),
            std::string::npos);
  fs::remove(tmp / "cable/ground_truth/crack/000_mask.png");
  const auto e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("crack/000.png: no mask: expected"), std::string::npos) << e;
}

TEST(BatchLoader, BatchesInOrderWithMasksAndZeroMasksForGoodImages) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "bottle");
  const auto test = Catalog::scan(tmp.path()).test_set("bottle");
  BatchLoader loader(test, {32, 28}, 1, true, 2);
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

// Masks pair with test images by name (<stem>_mask.png or <stem>.png): a
// deleted image or mask is an error naming the file, never a shifted pairing.
TEST(Catalog, MasksPairByNameAndOrphansAreErrors) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "bottle");
  png(tmp / "bottle/test/crack/007.png", 32);
  png(tmp / "bottle/ground_truth/crack/007.png", 32, 0, 1);  // the bare-stem spelling
  png(tmp / "bottle/test/crack/001.png", 32);
  png(tmp / "bottle/ground_truth/crack/001_mask.png", 32, 0, 1);
  auto test = Catalog::scan(tmp.path()).test_set("bottle");
  ASSERT_EQ(test.size(), 4u);
  EXPECT_EQ(fs::path(test[0].mask_path).filename(), "000_mask.png");
  EXPECT_EQ(fs::path(test[1].mask_path).filename(), "001_mask.png");
  EXPECT_EQ(fs::path(test[2].mask_path).filename(), "007.png");
  EXPECT_EQ(test[3].mask_path, "");
  // The case: image 000 deleted, its mask kept. Index pairing would
  // have scored 001 against 000_mask; by name, 000_mask is an orphan.
  fs::remove(tmp / "bottle/test/crack/000.png");
  auto e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("ground_truth/crack/000_mask.png: mask without a test image: expected "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bottle/test/crack/000.*"), std::string::npos) << e;
  // Its mask deleted too, the tree is consistent again.
  fs::remove(tmp / "bottle/ground_truth/crack/000_mask.png");
  test = Catalog::scan(tmp.path()).test_set("bottle");
  ASSERT_EQ(test.size(), 3u);
  EXPECT_EQ(fs::path(test[0].path).filename(), "001.png");
  EXPECT_EQ(fs::path(test[0].mask_path).filename(), "001_mask.png");
  // A missing mask names the image itself and the mask it expected.
  fs::remove(tmp / "bottle/ground_truth/crack/001_mask.png");
  e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("test/crack/001.png: no mask: expected "), std::string::npos) << e;
  EXPECT_NE(e.find("ground_truth/crack/001_mask.png"), std::string::npos) << e;
  png(tmp / "bottle/ground_truth/crack/001_mask.png", 32, 0, 1);
  // Masks of a defect folder that has no test folder.
  png(tmp / "bottle/ground_truth/scratch/000_mask.png", 32, 0, 1);
  e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("ground_truth/scratch/000_mask.png: mask without a test image"),
            std::string::npos)
      << e;
  fs::remove_all(tmp / "bottle/ground_truth/scratch");
  // Two masks naming one image.
  png(tmp / "bottle/ground_truth/crack/001.png", 32, 0, 1);
  e = error_of([&] { Catalog::scan(tmp.path()); });
  EXPECT_NE(e.find("a second mask for test image '001'"), std::string::npos) << e;
}

// Many records, several workers, a batch size that does not divide them: the
// batches hold exactly load_image's tensors, in record order.
TEST(BatchLoader, PrefetchingWorkersKeepRecordOrder) {
  tc::testing::TempDir tmp;
  std::vector<ImageRecord> records;
  for (int i = 0; i < 11; ++i) {
    const auto p = tmp / ("train/" + std::to_string(100 + i) + ".png");
    png(p, 20 + i, 10 * i);
    records.push_back({p.string(), "c", "good", "", false});
  }
  BatchLoader loader(records, {16, 12}, 3, false, 3);
  int64_t seen = 0;
  while (auto b = loader.next()) {
    EXPECT_FALSE(b->masks.defined());
    ASSERT_EQ(b->images.size(0), static_cast<int64_t>(b->indices.size()));
    for (size_t j = 0; j < b->indices.size(); ++j) {
      EXPECT_EQ(b->indices[j], seen);
      EXPECT_TRUE(torch::equal(b->images[j], load_image(records[seen].path, {16, 12}))) << seen;
      ++seen;
    }
  }
  EXPECT_EQ(seen, 11);
  EXPECT_FALSE(loader.next().has_value());
}

// A failure in a later batch surfaces when that batch is asked for, as one
// line naming the file; the batches before it arrive intact.
TEST(BatchLoader, WorkerErrorIsOneLineAtItsBatch) {
  tc::testing::TempDir tmp;
  std::vector<ImageRecord> records;
  for (int i = 0; i < 4; ++i) {
    const auto p = tmp / (std::to_string(i) + ".png");
    png(p, 16);
    records.push_back({p.string(), "c", "good", "", false});
  }
  std::ofstream(records[3].path, std::ios::trunc) << "garbage";
  BatchLoader loader(records, {16, 16}, 2, false, 2);
  EXPECT_TRUE(loader.next().has_value());
  const auto e = error_of([&] { loader.next(); });
  EXPECT_NE(e.find(records[3].path + ": cannot decode image"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_FALSE(loader.next().has_value());
}

// A crop larger than the resized image is an error, not a crash in a worker.
TEST(BatchLoader, CropLargerThanResizeIsAnError) {
  tc::testing::TempDir tmp;
  png(tmp / "a.png", 16);
  BatchLoader loader({{(tmp / "a.png").string(), "c", "good", "", false}}, {16, 20}, 1, false, 1);
  const auto e = error_of([&] { loader.next(); });
  EXPECT_NE(e.find("a.png"), std::string::npos) << e;
  EXPECT_NE(e.find("smaller than the crop 20"), std::string::npos) << e;
}

}  // namespace

namespace {

TEST(InputCheck, ImageSizeFromHeadersMatchesDecoding) {
  tc::testing::TempDir tmp;
  cv::Mat img(23, 41, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* name : {"a.png", "a.jpg", "a.bmp"}) {
    ASSERT_TRUE(cv::imwrite((tmp / name).string(), img));
    EXPECT_EQ(image_size((tmp / name).string()), (std::pair<int, int>{41, 23})) << name;
  }
  std::ofstream(tmp / "bad.png") << "not an image";
  EXPECT_NE(error_of([&] {
              image_size((tmp / "bad.png").string());
            }).find("bad.png: cannot decode image"),
            std::string::npos);
}

// Mask sizes and test folders are checked before the first stage, not when
// the test set is extracted after every training stage.
TEST(InputCheck, MaskSizesAndEmptyTestSetsFailBeforeAnyStage) {
  tc::testing::TempDir tmp;
  make_class(tmp.path(), "bottle");
  EXPECT_NO_THROW(check_run_inputs(Catalog::scan(tmp.path())));
  make_class(tmp.path(), "cable", /*mask_side=*/40);
  auto e = error_of([&] { check_run_inputs(Catalog::scan(tmp.path())); });
  EXPECT_NE(e.find("cable/ground_truth/crack/000_mask.png: mask is 40x40 but its image"),
            std::string::npos)
      << e;
  fs::remove_all(tmp / "cable");
  make_class(tmp.path(), "cable");
  fs::remove_all(tmp / "cable/test");
  fs::remove_all(tmp / "cable/ground_truth");
  e = error_of([&] { check_run_inputs(Catalog::scan(tmp.path())); });
  EXPECT_NE(e.find("cable/test: no test images"), std::string::npos) << e;
}

}  // namespace
