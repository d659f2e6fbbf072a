// Pictures a person can look at: image | ground truth | anomaly-map overlay.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace tc::eval {

/// image [3, H, W] float32 ImageNet-normalised (as the model saw it), gt_mask
/// [H, W] {0,1}, map [H, W] float scaled to [vmin, vmax] for the JET colours.
/// Writes one PNG of three panels side by side (folders created).
void write_overlay_png(const std::filesystem::path& path, const at::Tensor& image,
                       const at::Tensor& gt_mask, const at::Tensor& map, double vmin, double vmax);

}  // namespace tc::eval
