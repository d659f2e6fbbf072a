#include "tailedcore/data/input_check.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"

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
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
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

}  // namespace

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
  TC_CHECK(pixels <= kMaxImagePixels, path, ": image is ", size.first, "x", size.second, " (", pixels,
           " pixels): expected at most ", kMaxImagePixels, " (16384 x 16384)");
}

std::pair<int, int> common_image_size(const std::vector<std::string>& paths) {
  TC_CHECK(!paths.empty(), "no images to take a common size of: expected at least one");
  const auto first = image_size(paths.front());
  for (const auto& p : paths) {
    const auto size = image_size(p);
    TC_CHECK(size == first, p, ": image is ", size.first, "x", size.second, " but ", paths.front(),
             " is ", first.first, "x", first.second,
             ": images kept at their own size must all have the same size");
  }
  return first;
}

void check_run_inputs(const Catalog& catalog, bool native_size) {
  std::vector<std::string> pooled;
  // Every image's declared size before any is decoded (headers only).
  for (const auto& r : catalog.train_pool()) check_image_pixels(r.path);
  for (const auto& cls : catalog.classes()) {
    const auto test = catalog.test_set(cls);  // fails naming <class>/test when empty
    for (const auto& r : test) check_image_pixels(r.path);
    if (native_size) {
      std::vector<std::string> paths;
      for (const auto& r : catalog.train_set(cls)) paths.push_back(r.path), pooled.push_back(r.path);
      for (const auto& r : test) paths.push_back(r.path);
      common_image_size(paths);
    }
    for (const auto& r : test) {
      if (r.mask_path.empty()) continue;
      const auto [iw, ih] = image_size(r.path);
      const auto [mw, mh] = image_size(r.mask_path);
      TC_CHECK(mw == iw && mh == ih, r.mask_path, ": mask is ", mw, "x", mh, " but its image ", r.path,
               " is ", iw, "x", ih, ": expected the same size");
    }
  }
  if (native_size) common_image_size(pooled);
}

}  // namespace tc::data
