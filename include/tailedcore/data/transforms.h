// Image and mask transforms exactly as the reference (SPEC 1.2):
// decode -> RGB -> Resize(shorter side) with PIL's antialiased bilinear filter
// and its 8-bit fixed-point rounding -> CenterCrop -> /255 -> ImageNet Normalize.
// Either step can be left out (kFullSize): with neither, an image keeps its own
// size, which need not be square (native resolution).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <utility>

namespace tc::data {

/// For TransformOptions::resize or ::crop: leave that step out, keeping the
/// size the image has at that point.
constexpr int64_t kFullSize = 0;

struct TransformOptions {
  int64_t resize = 256;  // shorter side after resizing; kFullSize = no resize
  int64_t crop = 224;    // square centre crop; kFullSize = none (the tail views start uncropped)
};

/// PIL's Image.resize(size, BILINEAR) on an 8-bit image of 1 or 3 channels:
/// separable triangle filter with support scaled by the downscale factor,
/// 22-bit fixed-point coefficients, horizontal pass then vertical, clipping
/// to 0..255 after each pass. Bit-exact with Pillow.
cv::Mat resize_pil_bilinear(const cv::Mat& src, int out_w, int out_h);

/// (width, height) after Resize(shorter side = `shorter`): the longer side is
/// int(shorter * long / short), as torchvision computes it.
std::pair<int, int> resized_size(int width, int height, int64_t shorter);

/// Decodes an image as 8-bit RGB like Pillow's convert("RGB"): grayscale -> 3
/// equal channels, alpha dropped, palette expanded, EXIF orientation ignored.
/// The one-line error names the file when it is missing, unreadable or
/// truncated (a truncated JPEG too, which libjpeg alone would pad with grey).
cv::Mat decode_rgb(const std::string& path);
/// Decodes a mask as one 8-bit channel.
cv::Mat decode_gray(const std::string& path);

/// The top-left corner (top, left) of a centre crop of crop_w x crop_h from an
/// image of `width` x `height`: torchvision's int(round((size - crop) / 2.0)),
/// Python rounding half to even. An image smaller than the crop is an error.
std::pair<int64_t, int64_t> center_crop_origin(int64_t width, int64_t height, int64_t crop_w,
                                               int64_t crop_h);

/// Resize + centre crop of an 8-bit image (the reference's PIL steps), each
/// left out when kFullSize. A negative size, or a crop larger than the
/// (resized) image, is a one-line error naming the sizes.
cv::Mat resize_and_crop(const cv::Mat& img, const TransformOptions& opts);

/// [3, H, W] float32, ImageNet-normalised.
at::Tensor load_image(const std::string& path, const TransformOptions& opts);
/// An 8-bit RGB image (after resize + crop) as the normalised tensor
/// [3, H, W] float32, element for element torchvision's ToTensor + Normalize.
/// No ATen operators run (safe in the loader's decode threads).
at::Tensor to_normalized_tensor(const cv::Mat& rgb);
/// An 8-bit mask (after resize + crop) as [H, W] uint8: 1 where it is 255.
at::Tensor binarize_mask(const cv::Mat& gray);

}  // namespace tc::data
