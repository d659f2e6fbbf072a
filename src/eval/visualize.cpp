#include "tailedcore/eval/visualize.h"

#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "picture.h"
#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"

namespace tc::eval {

cv::Mat to_bgr(const at::Tensor& image) {
  TC_CHECK(image.dim() == 3 && image.size(0) == 3, "picture: image must be [3, H, W]: got ",
           image.sizes());
  const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  const auto rgb = ((image.to(torch::kFloat32) * std + mean) * 255)
                       .clamp(0, 255)
                       .to(torch::kUInt8)
                       .permute({1, 2, 0})
                       .contiguous();
  cv::Mat img(static_cast<int>(image.size(1)), static_cast<int>(image.size(2)), CV_8UC3,
              rgb.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Mat with_outline(const cv::Mat& bgr, const at::Tensor& mask) {
  const auto m = mask.to(torch::kUInt8).contiguous() * 255;
  cv::Mat gray(bgr.rows, bgr.cols, CV_8U, m.data_ptr<uint8_t>());
  cv::Mat out = bgr.clone();
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(gray.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(out, contours, -1, cv::Scalar(0, 0, 255), std::max(1, bgr.cols / 128));
  return out;
}

cv::Mat heat_overlay(const cv::Mat& bgr, const at::Tensor& map, double vmin, double vmax) {
  const double span = vmax > vmin ? vmax - vmin : 1.0;
  const auto scaled =
      ((map.to(torch::kFloat32) - vmin) / span * 255).clamp(0, 255).to(torch::kUInt8).contiguous();
  cv::Mat gray(bgr.rows, bgr.cols, CV_8U, scaled.data_ptr<uint8_t>());
  cv::Mat jet, overlay;
  cv::applyColorMap(gray, jet, cv::COLORMAP_JET);
  cv::addWeighted(bgr, 0.5, jet, 0.5, 0.0, overlay);
  return overlay;
}

void write_png(const std::filesystem::path& path, const cv::Mat& picture) {
  if (path.has_parent_path()) io::ensure_writable_dir(path.parent_path());
  std::vector<uchar> png;
  TC_CHECK(cv::imencode(".png", picture, png), path.string(), ": cannot encode PNG");
  io::write_text_atomic(path, std::string(png.begin(), png.end()));
}

void write_overlay_png(const std::filesystem::path& path, const at::Tensor& image,
                       const at::Tensor& gt_mask, const at::Tensor& map, double vmin, double vmax) {
  TC_CHECK(image.dim() == 3 && image.size(0) == 3, "overlay: image must be [3, H, W]: got ",
           image.sizes());
  const int64_t H = image.size(1), W = image.size(2);
  TC_CHECK(map.size(0) == H && map.size(1) == W && gt_mask.size(0) == H && gt_mask.size(1) == W,
           "overlay: image ", image.sizes(), ", mask ", gt_mask.sizes(), " and map ", map.sizes(),
           " must share H x W");
  const cv::Mat bgr = to_bgr(image);
  cv::Mat panels;
  cv::hconcat(
      std::vector<cv::Mat>{bgr, with_outline(bgr, gt_mask), heat_overlay(bgr, map, vmin, vmax)},
      panels);
  write_png(path, panels);
}

}  // namespace tc::eval
