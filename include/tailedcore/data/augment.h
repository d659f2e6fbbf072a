// Rotated/flipped views of tail images for TailedCore's tail branch (SPEC 5.2).
//
// rot15flip / rot30flip / rot45flip: from the uncropped image (Resize only),
// for angle in 0, step, ..., < 360 and flip in {0, 1}, skipping the identity:
// optional horizontal flip, replicate padding of 47 px (enough for the
// 224 x 224 crop's diagonal), nearest-neighbour rotation about the exact centre
// with zero fill, then the centre crop. rotflip: the normal crop rotated by
// 0/90/180/270 degrees, with and without flip, minus the identity (exact); of a
// non-square image only 0 and 180 degrees, which keep its shape (for_image_shape).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tailedcore/core/names.h"

namespace tc::data {

struct AugmentSpec {
  std::string name;        // the config name, "" = none
  int64_t angle_step = 0;  // degrees between views (15, 30, 45, or 90 for rotflip)
  bool from_uncropped =
      false;  // views start from the uncropped image (rot*flip) or the crop (rotflip)
  bool quarter_turns =
      true;  // rotflip: the 90 and 270 degree views (only a square image keeps its shape)
  /// Views per image besides the original: 360 / step * 2 - 1 (0 for none);
  /// rotflip without quarter turns: 3 (flip, 180, 180 + flip).
  int64_t views() const {
    if (angle_step <= 0) return 0;
    return quarter_turns || from_uncropped ? 360 / angle_step * 2 - 1 : 3;
  }
};

enum class AugmentType { kNone, kRot15Flip, kRot30Flip, kRot45Flip, kRotFlip };
/// "" (none) | rot15flip | rot30flip | rot45flip | rotflip (config tail_data_augment_type).
const core::NameTable<AugmentType>& augment_types();

/// The spec of a name of augment_types(); anything else is an error listing them.
AugmentSpec augment_spec(const std::string& name);

/// `spec` for views of h x w images: rotflip of a non-square image keeps only
/// the views that keep its shape (quarter_turns = false); the rest unchanged.
AugmentSpec for_image_shape(AugmentSpec spec, int64_t h, int64_t w);

/// The (angle, flip) pairs in the reference's order: angle outer, flip inner, identity skipped.
std::vector<std::pair<int64_t, bool>> view_sequence(const AugmentSpec& spec);

/// One view. `image` is [B, 3, H, W] float32 (normalised): uncropped for rot*flip,
/// the crop for rotflip (square). Returns [B, 3, crop, crop]; crop = kFullSize
/// (transforms.h) keeps the image's H x W, also when not square (rot*flip pad
/// each side by what the H x W view's diagonal needs; for a square crop that
/// is the 47 px above).
at::Tensor make_view(const at::Tensor& image, const AugmentSpec& spec, int64_t angle, bool flip,
                     int64_t crop);

/// Nearest-neighbour rotation by `degrees` (counter-clockwise) about the exact
/// centre, zero fill, output the same size: torchvision's F.rotate on tensors.
at::Tensor rotate_nearest(const at::Tensor& image, double degrees);

}  // namespace tc::data
