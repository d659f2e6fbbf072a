#include "tailedcore/eval/visualize.h"

#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"

namespace tc::eval {

void write_overlay_png(const std::filesystem::path& path, const at::Tensor& image,
                       const at::Tensor& gt_mask, const at::Tensor& map, double vmin, double vmax) {
  TC_CHECK(image.dim() == 3 && image.size(0) == 3, "overlay: image must be [3, H, W]: got ", image.sizes());
  const int64_t H = image.size(1), W = image.size(2);
  TC_CHECK(map.size(0) == H && map.size(1) == W && gt_mask.size(0) == H && gt_mask.size(1) == W,
           "overlay: image ", image.sizes(), ", mask ", gt_mask.sizes(), " and map ", map.sizes(),
           " must share H x W");
  const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  const auto rgb = ((image.to(torch::kFloat32) * std + mean) * 255).clamp(0, 255).to(torch::kUInt8)
                       .permute({1, 2, 0}).contiguous();
  cv::Mat img(static_cast<int>(H), static_cast<int>(W), CV_8UC3, rgb.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);

  // Ground truth: the defect's outline in red over the image.
  const auto m = gt_mask.to(torch::kUInt8).contiguous() * 255;
  cv::Mat mask(static_cast<int>(H), static_cast<int>(W), CV_8U, m.data_ptr<uint8_t>());
  cv::Mat gt = bgr.clone();
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(gt, contours, -1, cv::Scalar(0, 0, 255), 1);

  // Heat map: JET colours blended over the image.
  const double span = vmax > vmin ? vmax - vmin : 1.0;
  const auto scaled = ((map.to(torch::kFloat32) - vmin) / span * 255).clamp(0, 255).to(torch::kUInt8).contiguous();
  cv::Mat gray(static_cast<int>(H), static_cast<int>(W), CV_8U, scaled.data_ptr<uint8_t>());
  cv::Mat jet, overlay;
  cv::applyColorMap(gray, jet, cv::COLORMAP_JET);
  cv::addWeighted(bgr, 0.5, jet, 0.5, 0.0, overlay);

  cv::Mat panels;
  cv::hconcat(std::vector<cv::Mat>{bgr, gt, overlay}, panels);
  if (path.has_parent_path()) io::ensure_writable_dir(path.parent_path());
  std::vector<uchar> png;
  TC_CHECK(cv::imencode(".png", panels, png), path.string(), ": cannot encode PNG");
  io::write_text_atomic(path, std::string(png.begin(), png.end()));
}

}  // namespace tc::eval
