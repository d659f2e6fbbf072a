// The image/mask transforms against Pillow + torchvision outputs written by
// tests/fixtures/data/make_transform_fixtures.py.
#include "tailedcore/data/transforms.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "tailedcore/core/check.h"
#include "testing.h"

using namespace tc::data;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = tc::testing::fixtures_dir() / "data";

struct Case {
  std::string name, file;
  int64_t resize, crop;
  double sum, probe;
  std::string src() const { return (kDir / file).string(); }
  std::string expected() const { return (kDir / (name + "_expected.png")).string(); }
  bool lossless() const { return file.substr(file.size() - 4) == ".png"; }
};

std::vector<Case> cases() {
  std::ifstream in(kDir / "expected.txt");
  std::vector<Case> out;
  Case c;
  while (in >> c.name >> c.file >> c.resize >> c.crop >> c.sum >> c.probe)
    if (c.name != "mask") out.push_back(c);
  return out;
}

// torchvision's normalised value of every 8-bit level, per channel.
std::vector<std::vector<float>> normalize_lut() {
  std::ifstream in(kDir / "normalize_lut.txt");
  std::vector<std::vector<float>> lut(3, std::vector<float>(256));
  for (auto& row : lut)
    for (auto& v : row) {
      std::string s;
      in >> s;
      v = std::strtof(s.c_str(), nullptr);
    }
  EXPECT_TRUE(in.good()) << "normalize_lut.txt: expected 3 x 256 values";
  return lut;
}

// The torchvision tensor of a Pillow result, through the level table.
torch::Tensor reference_tensor(const cv::Mat& rgb, const std::vector<std::vector<float>>& lut) {
  auto t = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat32);
  auto a = t.accessor<float, 3>();
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x)
      for (int c = 0; c < 3; ++c) a[c][y][x] = lut[c][rgb.at<cv::Vec3b>(y, x)[c]];
  return t;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Transforms, ResizeAndCropEqualPillowToThePixel) {
  int checked = 0;
  for (const auto& c : cases()) {
    if (!c.lossless()) continue;
    const cv::Mat ours = resize_and_crop(decode_rgb(c.src()), {c.resize, c.crop});
    const cv::Mat want = decode_rgb(c.expected());
    ASSERT_EQ(ours.size(), want.size()) << c.name;
    EXPECT_EQ(cv::countNonZero(cv::Mat(ours != want).reshape(1)), 0)
        << c.name << ": pixels differ from Pillow";
    ++checked;
  }
  EXPECT_EQ(checked,
            10);  // incl. 256/224, the uncropped 256, a 300x260 source, RGBA and palette PNGs
}

TEST(Transforms, UncroppedResizeHasTorchvisionSizes) {
  for (const auto& c : cases()) {
    if (c.crop != 0) continue;
    const cv::Mat src = decode_rgb(c.src());
    const auto [w, h] = resized_size(src.cols, src.rows, c.resize);
    const cv::Mat want = decode_rgb(c.expected());
    EXPECT_EQ(w, want.cols) << c.name;
    EXPECT_EQ(h, want.rows) << c.name;
    EXPECT_EQ(load_image(c.src(), {c.resize, 0}).sizes(), (std::vector<int64_t>{3, h, w}));
  }
}

TEST(Transforms, NormalisedTensorEqualsTorchvisionElementwise) {
  const auto lut = normalize_lut();
  for (const auto& c : cases()) {
    if (!c.lossless()) continue;
    const auto t = load_image(c.src(), {c.resize, c.crop});
    const auto want = reference_tensor(decode_rgb(c.expected()), lut);
    ASSERT_EQ(t.sizes(), want.sizes()) << c.name;
    EXPECT_EQ(t.dtype(), torch::kFloat32);
    EXPECT_LE((t - want).abs().max().item<double>(), 1e-6) << c.name;
    EXPECT_NEAR(t.sum().item<double>(), c.sum, 1e-6 * t.numel() + 1e-3) << c.name;
    EXPECT_NEAR(t[1][3][5].item<double>(), c.probe, 1e-6) << c.name;
  }
}

// Pillow and OpenCV may link different libjpeg builds; the difference is
// measured and printed, and only a gross one (a channel swap, a different
// colour conversion) fails.
TEST(Transforms, JpegDecodeIsCloseToPillowAndReported) {
  const auto all = cases();
  const auto it =
      std::find_if(all.begin(), all.end(), [](const Case& c) { return c.name == "jpeg"; });
  ASSERT_NE(it, all.end());
  const cv::Mat ours = decode_rgb(it->src());
  const cv::Mat pillow = decode_rgb((kDir / "jpeg_decoded.png").string());
  ASSERT_EQ(ours.size(), pillow.size());
  const double decode_max = cv::norm(ours, pillow, cv::NORM_INF);
  const double decode_mean = cv::norm(ours, pillow, cv::NORM_L1) / (ours.total() * 3.0);
  const cv::Mat resized = resize_and_crop(ours, {it->resize, it->crop});
  const double resized_max = cv::norm(resized, decode_rgb(it->expected()), cv::NORM_INF);
  const double tensor_max = (load_image(it->src(), {it->resize, it->crop}) -
                             reference_tensor(decode_rgb(it->expected()), normalize_lut()))
                                .abs()
                                .max()
                                .item<double>();
  std::cout << "[ jpeg ] decode vs Pillow: max |diff| " << decode_max << ", mean " << decode_mean
            << "; after resize+crop: max " << resized_max << "; normalised tensor max "
            << tensor_max << "\n";
  EXPECT_LE(decode_mean, 2.0);
}

TEST(Transforms, MaskKeepsOnlyPixelsThatStay255) {
  // As the loader reads a mask: decode, resize + crop, binarise.
  const auto m =
      binarize_mask(resize_and_crop(decode_gray((kDir / "mask.png").string()), {32, 28}));
  const cv::Mat want = cv::imread((kDir / "mask_expected.png").string(), cv::IMREAD_GRAYSCALE);
  auto w = torch::from_blob(want.data, {want.rows, want.cols}, torch::kUInt8) / 255;
  EXPECT_EQ(m.dtype(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(m, w.to(torch::kUInt8)));
  EXPECT_EQ(m.sum().item<int64_t>(), 80);
  // The soft edge (128) and the bilinear ramps around the square are 0.
  EXPECT_EQ(std::get<0>(torch::_unique(m)).numel(), 2);
}

TEST(Transforms, ResizedSizeFollowsTorchvision) {
  EXPECT_EQ(resized_size(900, 900, 256), std::make_pair(256, 256));
  EXPECT_EQ(resized_size(1500, 1000, 256), std::make_pair(384, 256));
  EXPECT_EQ(resized_size(1000, 1500, 256), std::make_pair(256, 384));
  EXPECT_EQ(resized_size(83, 61, 40), std::make_pair(54, 40));
  EXPECT_EQ(resized_size(300, 260, 256), std::make_pair(295, 256));  // int(256 * 300 / 260) = 295
}

TEST(Transforms, UnreadableAndTruncatedImagesNameTheFile) {
  tc::testing::TempDir tmp;
  const std::string png = file_bytes(kDir / "rgb_wide.png");
  const std::string jpg = file_bytes(kDir / "jpeg.jpg");
  std::ofstream(tmp / "truncated.png", std::ios::binary) << png.substr(0, png.size() / 3);
  std::ofstream(tmp / "no_iend.png", std::ios::binary) << png.substr(0, png.size() - 12);
  std::ofstream(tmp / "truncated.jpg", std::ios::binary) << jpg.substr(0, jpg.size() * 2 / 3);
  std::ofstream(tmp / "text.png") << "not an image";
  std::ofstream(tmp / "empty.png");
  for (const auto& name :
       {"truncated.png", "no_iend.png", "truncated.jpg", "text.png", "empty.png", "missing.png"}) {
    const auto p = (tmp / name).string();
    const auto e = tc::testing::error_of([&] { load_image(p, {}); });
    EXPECT_NE(e.find(p), std::string::npos) << name << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << name << ": not one line: " << e;
  }
  // A complete JPEG with bytes after its end marker still decodes (Pillow reads it too).
  std::ofstream(tmp / "trailing.jpg", std::ios::binary) << jpg << "xyz";
  EXPECT_EQ(load_image((tmp / "trailing.jpg").string(), {40, 36}).size(1), 36);
}

}  // namespace

// A header that declares 30000 x 30000 pixels is refused before decoding,
// naming the file and the size (the decoder would allocate 2.7 GB first).
TEST(Transforms, AHugeImageIsOneLineBeforeDecoding) {
  tc::testing::TempDir dir;
  const auto path = (dir / "huge.png").string();
  {
    std::ofstream out(path, std::ios::binary);
    const unsigned char header[] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0, 0,
                                    13,   'I',  'H', 'D', 'R',  0,    0,    0x75, 0x30, 0, 0,
                                    0x75, 0x30, 8,   2,   0,    0,    0,    0,    0,    0, 0};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
  }
  const auto e = tc::testing::error_of([&] { tc::data::decode_rgb(path); });
  EXPECT_NE(e.find("huge.png: image is 30000x30000 (900000000 pixels): expected at most 268435456"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}
