#include "tailedcore/data/transforms.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tailedcore/core/check.h"

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

cv::Mat decode(const std::string& path, int flags, const char* what) {
  TC_CHECK(std::filesystem::is_regular_file(path), path, ": ", what, " file does not exist");
  cv::Mat img;
  try {
    img = cv::imread(path, flags);
  } catch (const cv::Exception& e) {
    TC_FAIL(path, ": cannot decode ", what, " (", e.what(), ")");
  }
  TC_CHECK(!img.empty(), path, ": cannot decode ", what, " (unreadable, truncated or not an image)");
  if (img.depth() != CV_8U) {
    cv::Mat eight;
    img.convertTo(eight, CV_8U, img.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
    img = eight;
  }
  return img;
}

}  // namespace

cv::Mat decode_rgb(const std::string& path) {
  cv::Mat bgr = decode(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION, "image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat decode_gray(const std::string& path) {
  return decode(path, cv::IMREAD_GRAYSCALE | cv::IMREAD_IGNORE_ORIENTATION, "mask");
}

cv::Mat resize_and_crop(const cv::Mat& img, const TransformOptions& opts) {
  const auto [w, h] = resized_size(img.cols, img.rows, opts.resize);
  cv::Mat r = resize_pil_bilinear(img, w, h);
  if (opts.crop <= 0) return r;
  const int crop = static_cast<int>(opts.crop);
  TC_CHECK(w >= crop && h >= crop, "resized image ", w, "x", h, " is smaller than the crop ", crop);
  // torchvision: int(round((size - crop) / 2.0)), Python rounds half to even.
  const int top = static_cast<int>(std::nearbyint((h - crop) / 2.0));
  const int left = static_cast<int>(std::nearbyint((w - crop) / 2.0));
  return r(cv::Rect(left, top, crop, crop)).clone();
}

at::Tensor to_normalized_tensor(const cv::Mat& rgb) {
  TC_ASSERT(rgb.type() == CV_8UC3 && rgb.isContinuous());
  auto t = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
               .permute({2, 0, 1})
               .to(torch::kFloat32)
               .div_(255.0f);
  const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  return t.sub_(mean).div_(std).contiguous();
}

at::Tensor load_image(const std::string& path, const TransformOptions& opts) {
  return to_normalized_tensor(resize_and_crop(decode_rgb(path), opts));
}

at::Tensor load_mask(const std::string& path, const TransformOptions& opts) {
  const cv::Mat m = resize_and_crop(decode_gray(path), opts);
  auto t = torch::from_blob(const_cast<uint8_t*>(m.data), {m.rows, m.cols}, torch::kUInt8);
  return (t == 255).to(torch::kUInt8);
}

}  // namespace tc::data
