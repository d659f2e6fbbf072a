#include "tailedcore/data/transforms.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tailedcore/core/check.h"
#include "tailedcore/data/input_check.h"

namespace tc::data {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output pixel: first input index, count
  std::vector<int32_t> k;   // fixed-point weights, ksize per output pixel
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter.
Coeffs precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(out_size * 2);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double t = (x + xmin - center + 0.5) * ss;
      if (t < 0) t = -t;
      w[x] = t < 1.0 ? 1.0 - t : 0.0;
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[xx * c.ksize + x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits)
                                                         : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace

cv::Mat resize_pil_bilinear(const cv::Mat& src, int out_w, int out_h) {
  TC_CHECK(src.depth() == CV_8U && (src.channels() == 1 || src.channels() == 3),
           "resize_pil_bilinear expects an 8-bit image with 1 or 3 channels");
  const int C = src.channels();
  const bool need_h = out_w != src.cols, need_v = out_h != src.rows;
  const Coeffs ch = precompute(src.cols, out_w);
  Coeffs cv_ = precompute(src.rows, out_h);
  // Rows the vertical pass reads: the horizontal pass only computes those.
  const int y_first = cv_.bounds[0];
  const int y_last = cv_.bounds[out_h * 2 - 2] + cv_.bounds[out_h * 2 - 1];
  cv::Mat tmp = src;
  if (need_h) {
    for (int i = 0; i < out_h; ++i) cv_.bounds[i * 2] -= y_first;
    tmp = cv::Mat(y_last - y_first, out_w, src.type());
    for (int y = 0; y < tmp.rows; ++y) {
      const uint8_t* in = src.ptr<uint8_t>(y + y_first);
      uint8_t* out = tmp.ptr<uint8_t>(y);
      for (int xx = 0; xx < out_w; ++xx) {
        const int xmin = ch.bounds[xx * 2], xmax = ch.bounds[xx * 2 + 1];
        const int32_t* k = &ch.k[xx * ch.ksize];
        for (int c = 0; c < C; ++c) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < xmax; ++x) ss += in[(x + xmin) * C + c] * k[x];
          out[xx * C + c] = clip8(ss);
        }
      }
    }
  }
  if (!need_v) return need_h ? tmp : src.clone();
  cv::Mat out(out_h, out_w, src.type());
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = cv_.bounds[yy * 2], ymax = cv_.bounds[yy * 2 + 1];
    const int32_t* k = &cv_.k[yy * cv_.ksize];
    uint8_t* o = out.ptr<uint8_t>(yy);
    for (int xc = 0; xc < out_w * C; ++xc) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; ++y) ss += tmp.ptr<uint8_t>(y + ymin)[xc] * k[y];
      o[xc] = clip8(ss);
    }
  }
  return out;
}

std::pair<int, int> resized_size(int width, int height, int64_t shorter) {
  if (width <= height)
    return {static_cast<int>(shorter), static_cast<int>(shorter * height / width)};
  return {static_cast<int>(shorter * width / height), static_cast<int>(shorter)};
}

namespace {

std::string read_bytes(const std::string& path, const char* what) {
  TC_CHECK(std::filesystem::is_regular_file(path), path, ": ", what, " file does not exist");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TC_CHECK(in.good() || in.eof(), path, ": cannot read ", what, " file");
  return bytes;
}

// libjpeg pads a truncated JPEG with grey and only warns, where Pillow raises
// "image file is truncated". Entropy-coded data stuffs every 0xFF byte, so a
// complete file has an end-of-image marker (FF D9) after its last
// start-of-scan marker (FF DA); an embedded thumbnail's markers come first.
bool jpeg_is_truncated(const std::string& b) {
  const auto last_marker = [&](unsigned char code) -> std::ptrdiff_t {
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(b.size()) - 2; i >= 0; --i)
      if (static_cast<unsigned char>(b[i]) == 0xFF && static_cast<unsigned char>(b[i + 1]) == code)
        return i;
    return -1;
  };
  const std::ptrdiff_t sos = last_marker(0xDA), eoi = last_marker(0xD9);
  return sos < 0 || eoi < sos;
}

bool is_jpeg(const std::string& b) {
  return b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xFF &&
         static_cast<unsigned char>(b[1]) == 0xD8 && static_cast<unsigned char>(b[2]) == 0xFF;
}

// The first line of an exception's message (OpenCV's end in a newline).
std::string first_line(const char* msg) {
  std::string s(msg);
  s = s.substr(0, s.find('\n'));
  return s;
}

cv::Mat decode(const std::string& path, int flags, const char* what) {
  check_image_pixels(path);  // before the decoder allocates it
  const std::string bytes = read_bytes(path, what);
  TC_CHECK(!bytes.empty(), path, ": ", what, " file is empty");
  TC_CHECK(!is_jpeg(bytes) || !jpeg_is_truncated(bytes), path, ": cannot decode ", what,
           " (truncated JPEG: no end-of-image marker after the last scan)");
  cv::Mat img;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    img = cv::imdecode(buf, flags);
  } catch (const cv::Exception& e) {
    TC_FAIL(path, ": cannot decode ", what, " (", first_line(e.what()), ")");
  }
  TC_CHECK(!img.empty(), path, ": cannot decode ", what,
           " (unreadable, truncated or not an image)");
  TC_ASSERT(img.depth() == CV_8U, path);  // IMREAD_COLOR / IMREAD_GRAYSCALE give 8 bits
  return img;
}

}  // namespace

cv::Mat decode_rgb(const std::string& path) {
  // IMREAD_COLOR: grayscale -> 3 equal channels, alpha dropped, palette
  // expanded, as Pillow's convert("RGB"). EXIF orientation is ignored, as Pillow.
  cv::Mat bgr = decode(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION, "image");
  // A plain loop, not cv::cvtColor: OpenCV's parallel_for_ (TBB) would put a
  // thread pool beside LibTorch's in the loader's decode threads.
  TC_ASSERT(bgr.isContinuous());
  uint8_t* p = bgr.ptr<uint8_t>();
  for (size_t i = 0, n = bgr.total(); i < n; ++i) std::swap(p[3 * i], p[3 * i + 2]);
  return bgr;
}

cv::Mat decode_gray(const std::string& path) {
  return decode(path, cv::IMREAD_GRAYSCALE | cv::IMREAD_IGNORE_ORIENTATION, "mask");
}

std::pair<int64_t, int64_t> center_crop_origin(int64_t width, int64_t height, int64_t crop_w,
                                               int64_t crop_h) {
  TC_CHECK(width >= crop_w && height >= crop_h, "image of ", width, "x", height,
           " is smaller than the crop ", crop_w, "x", crop_h);
  return {static_cast<int64_t>(std::nearbyint((height - crop_h) / 2.0)),
          static_cast<int64_t>(std::nearbyint((width - crop_w) / 2.0))};
}

cv::Mat resize_and_crop(const cv::Mat& img, const TransformOptions& opts) {
  TC_CHECK(opts.resize >= 0, "resize ", opts.resize,
           ": expected a shorter side > 0, or kFullSize (0) for none");
  TC_CHECK(opts.crop >= 0, "crop ", opts.crop, ": expected a side > 0, or kFullSize (0) for none");
  cv::Mat r = img;
  if (opts.resize != kFullSize) {
    const auto [rw, rh] = resized_size(img.cols, img.rows, opts.resize);
    r = resize_pil_bilinear(img, rw, rh);
  }
  if (opts.crop == kFullSize) return r;
  const int crop = static_cast<int>(opts.crop), w = r.cols, h = r.rows;
  TC_CHECK(w >= crop && h >= crop, "image ", w, "x", h,
           opts.resize == kFullSize ? "" : " after resizing", " is smaller than the crop ", crop);
  const auto [top, left] = center_crop_origin(w, h, crop, crop);
  return r(cv::Rect(static_cast<int>(left), static_cast<int>(top), crop, crop)).clone();
}

namespace {

// torchvision's ToTensor + Normalize of each 8-bit level, per channel, in
// float32 as it computes them: (v / 255 - mean) / std.
struct NormalizeTable {
  float value[3][256];
  NormalizeTable() {
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v)
        value[c][v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  }
};

}  // namespace

// Plain loops, no ATen operators: these run in the loader's decode threads,
// where an ATen parallel region would start another OpenMP team per thread.
at::Tensor to_normalized_tensor(const cv::Mat& rgb) {
  TC_ASSERT(rgb.type() == CV_8UC3 && rgb.isContinuous());
  static const NormalizeTable table;
  const int64_t hw = static_cast<int64_t>(rgb.rows) * rgb.cols;
  auto t = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat32);
  float* out = t.data_ptr<float>();
  const uint8_t* in = rgb.ptr<uint8_t>();
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < hw; ++i) out[c * hw + i] = table.value[c][in[3 * i + c]];
  return t;
}

at::Tensor binarize_mask(const cv::Mat& gray) {
  TC_ASSERT(gray.type() == CV_8UC1 && gray.isContinuous());
  auto t = torch::empty({gray.rows, gray.cols}, torch::kUInt8);
  uint8_t* out = t.data_ptr<uint8_t>();
  const uint8_t* in = gray.ptr<uint8_t>();
  for (size_t i = 0, n = gray.total(); i < n; ++i) out[i] = in[i] == 255 ? 1 : 0;
  return t;
}

at::Tensor load_image(const std::string& path, const TransformOptions& opts) {
  return to_normalized_tensor(resize_and_crop(decode_rgb(path), opts));
}

}  // namespace tc::data
