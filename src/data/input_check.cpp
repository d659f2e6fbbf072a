#include "tailedcore/data/input_check.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/transforms.h"

namespace tc::data {
namespace {

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t be16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// PNG: the IHDR chunk follows the 8-byte signature.
bool png_size(std::ifstream& in, std::pair<int, int>& size) {
  std::array<unsigned char, 24> h{};
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(h.data()), h.size())) return false;
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (!std::equal(sig, sig + 8, h.begin()) || std::string(h.begin() + 12, h.begin() + 16) != "IHDR")
    return false;
  size = {static_cast<int>(be32(&h[16])), static_cast<int>(be32(&h[20]))};
  return true;
}

// JPEG: walk the segments to the first start-of-frame marker.
bool jpeg_size(std::ifstream& in, std::pair<int, int>& size) {
  unsigned char m[2];
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(m), 2) || m[0] != 0xFF || m[1] != 0xD8) return false;
  for (;;) {
    unsigned char seg[4];
    if (!in.read(reinterpret_cast<char*>(seg), 4) || seg[0] != 0xFF) return false;
    const int marker = seg[1];
    const int length = be16(&seg[2]);
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      unsigned char f[5];
      if (!in.read(reinterpret_cast<char*>(f), 5)) return false;
      size = {be16(&f[3]), be16(&f[1])};
      return true;
    }
    if (length < 2) return false;
    in.seekg(length - 2, std::ios::cur);
  }
}

// "0, 1" or "0, 3, 7, ... (12 values)": the distinct values of an 8-bit mask.
std::string distinct_values(const cv::Mat& m) {
  bool seen[256] = {};
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) seen[m.at<uint8_t>(y, x)] = true;
  std::string out;
  int n = 0;
  for (int v = 0; v < 256; ++v)
    if (seen[v] && ++n <= 4) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return n > 4 ? out + ", ... (" + std::to_string(n) + " values)" : out;
}

// The metrics count a mask pixel as a defect only where it is 255 (SPEC 6),
// so a tree whose masks hold 0/1 labels or grey would score every pixel as
// good and give NaN pixel metrics. One decoded mask per class shows it: the
// first with a non-zero pixel must have a 255.
void check_mask_values(const std::vector<ImageRecord>& test) {
  for (const auto& r : test) {
    if (r.mask_path.empty()) continue;
    const cv::Mat m = decode_gray(r.mask_path);
    double hi = 0;
    cv::minMaxLoc(m, nullptr, &hi);
    if (hi == 0) continue;  // an empty mask says nothing about the encoding
    TC_CHECK(hi == 255, r.mask_path, ": mask values are ", distinct_values(m),
             ": expected 0 (good) and 255 (defect); the metrics take only 255 as a defect, so this "
             "class's",
             " pixel metrics would be undefined (binarise the masks, e.g. as tailedcore visa "
             "convert does)");
    return;
  }
}

}  // namespace

bool has_image_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::pair<int, int> size;
  return in.good() && (png_size(in, size) || jpeg_size(in, size)) && size.first > 0 &&
         size.second > 0;
}

std::filesystem::path source_file(const std::filesystem::path& root, const std::string& rel,
                                  const std::string& where, bool image) {
  const auto path = root / core::checked_relative_path(rel, where);
  TC_CHECK(std::filesystem::is_regular_file(path), where, ": ", path.string(),
           " does not exist in the source");
  TC_CHECK(!image || has_image_header(path.string()), where, ": ", path.string(),
           " is not an image: expected a PNG or JPEG file");
  return path;
}

std::pair<int, int> image_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TC_CHECK(in.good(), path, ": cannot open (missing or unreadable)");
  std::pair<int, int> size;
  if (png_size(in, size) || jpeg_size(in, size)) {
    check_image_pixels(path);
    return size;
  }
  const cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  TC_CHECK(!m.empty(), path, ": cannot decode image");
  return {m.cols, m.rows};
}

void check_image_pixels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::pair<int, int> size;
  if (!in.good() || !(png_size(in, size) || jpeg_size(in, size))) return;
  const int64_t pixels = static_cast<int64_t>(size.first) * size.second;
  TC_CHECK(pixels <= kMaxImagePixels, path, ": image is ", size.first, "x", size.second, " (",
           pixels, " pixels): expected at most ", kMaxImagePixels, " (16384 x 16384)");
}

std::pair<int, int> transformed_size(const std::string& path, const TransformOptions& opts) {
  auto size = image_size(path);
  if (opts.resize != kFullSize) size = resized_size(size.first, size.second, opts.resize);
  if (opts.crop != kFullSize) size = {static_cast<int>(opts.crop), static_cast<int>(opts.crop)};
  return size;
}

std::pair<int, int> common_image_size(const std::vector<std::string>& paths) {
  TC_CHECK(!paths.empty(), "no images to take a common size of: expected at least one");
  const auto first = image_size(paths.front());
  for (const auto& p : paths) {
    const auto size = image_size(p);
    TC_CHECK(size == first, p, ": image is ", size.first, "x", size.second, " but ", paths.front(),
             " is ", first.first, "x", first.second,
             ": images kept at their own size must have one size within a class (its test images "
             "are scored on the patch grid of its training images)");
  }
  return first;
}

void check_run_inputs(const Catalog& catalog, bool native_size) {
  // Every image's declared size before any is decoded (headers only).
  for (const auto& r : catalog.train_pool()) check_image_pixels(r.path);
  for (const auto& cls : catalog.classes()) {
    const auto test = catalog.test_set(cls);  // fails naming <class>/test when empty
    for (const auto& r : test) check_image_pixels(r.path);
    if (native_size) {
      std::vector<std::string> paths;
      for (const auto& r : catalog.train_set(cls)) paths.push_back(r.path);
      for (const auto& r : test) paths.push_back(r.path);
      common_image_size(paths);
    }
    for (const auto& r : test) {
      if (r.mask_path.empty()) continue;
      const auto [iw, ih] = image_size(r.path);
      const auto [mw, mh] = image_size(r.mask_path);
      TC_CHECK(mw == iw && mh == ih, r.mask_path, ": mask is ", mw, "x", mh, " but its image ",
               r.path, " is ", iw, "x", ih, ": expected the same size");
    }
    check_mask_values(test);
  }
  // The pooled training set may mix sizes: each image keeps its own patch
  // grid (DESIGN.md "Mixed native sizes").
}

}  // namespace tc::data
