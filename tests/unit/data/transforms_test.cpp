#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/data/transforms.h"
#include "testing.h"

using namespace tc::data;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = tc::testing::fixtures_dir() / "data";

struct Case {
  std::string name;
  int64_t resize, crop;
  double sum, probe;
};

std::vector<Case> cases() {
  std::ifstream in(kDir / "expected.txt");
  std::vector<Case> out;
  Case c;
  while (in >> c.name >> c.resize >> c.crop >> c.sum >> c.probe) out.push_back(c);
  return out;
}

TEST(Transforms, ResizeAndCropEqualPillowToThePixel) {
  int checked = 0;
  for (const auto& c : cases()) {
    if (c.name == "mask") continue;
    const cv::Mat ours = resize_and_crop(decode_rgb((kDir / (c.name + ".png")).string()), {c.resize, c.crop});
    const cv::Mat want = decode_rgb((kDir / (c.name + "_expected.png")).string());
    ASSERT_EQ(ours.size(), want.size()) << c.name;
    EXPECT_EQ(cv::norm(ours, want, cv::NORM_INF), 0.0) << c.name << ": pixels differ from Pillow";
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(Transforms, NormalisedTensorMatchesTorchvision) {
  for (const auto& c : cases()) {
    if (c.name == "mask") continue;
    const auto t = load_image((kDir / (c.name + ".png")).string(), {c.resize, c.crop});
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, c.crop, c.crop}));
    EXPECT_NEAR(t.sum().item<double>(), c.sum, 1e-3) << c.name;
    EXPECT_NEAR(t[1][3][5].item<double>(), c.probe, 1e-6) << c.name;
  }
}

TEST(Transforms, MaskKeepsOnlyPixelsThatStay255) {
  const auto m = load_mask((kDir / "mask.png").string(), {32, 28});
  const cv::Mat want = cv::imread((kDir / "mask_expected.png").string(), cv::IMREAD_GRAYSCALE);
  auto w = torch::from_blob(want.data, {want.rows, want.cols}, torch::kUInt8) / 255;
  EXPECT_TRUE(torch::equal(m, w.to(torch::kUInt8)));
  EXPECT_EQ(m.sum().item<int64_t>(), 80);
}

TEST(Transforms, ResizedSizeFollowsTorchvision) {
  EXPECT_EQ(resized_size(900, 900, 256), std::make_pair(256, 256));
  EXPECT_EQ(resized_size(1500, 1000, 256), std::make_pair(384, 256));
  EXPECT_EQ(resized_size(1000, 1500, 256), std::make_pair(256, 384));
  EXPECT_EQ(resized_size(83, 61, 40), std::make_pair(54, 40));
}

TEST(Transforms, UnreadableAndTruncatedImagesNameTheFile) {
  tc::testing::TempDir tmp;
  const auto good = kDir / "rgb_wide.png";
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto truncated = tmp / "truncated.png";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  std::ofstream(tmp / "text.png") << "not an image";
  for (const auto& p : {truncated, tmp / "text.png", tmp / "missing.png"}) {
    try {
      load_image(p.string(), {});
      ADD_FAILURE() << "no error for " << p;
    } catch (const tc::Error& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
