// OpenCV pieces shared by the pictures (visualize.cpp) and charts (charts.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <opencv2/core.hpp>

namespace tc::eval {

/// [3, H, W] ImageNet-normalised -> 8-bit BGR.
cv::Mat to_bgr(const at::Tensor& image);
/// A copy of `bgr` with the outline of mask [H, W] {0,1} in red.
cv::Mat with_outline(const cv::Mat& bgr, const at::Tensor& mask);
/// map [H, W] scaled to [vmin, vmax] as JET colours blended over `bgr`.
cv::Mat heat_overlay(const cv::Mat& bgr, const at::Tensor& map, double vmin, double vmax);
/// Encodes and writes atomically (folders created).
void write_png(const std::filesystem::path& path, const cv::Mat& picture);

}  // namespace tc::eval
