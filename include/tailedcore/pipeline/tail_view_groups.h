// How the tail images' views are computed and laid out in tail_features.h5
// (SPEC 5.2): the reference makes them per training batch of 128 images; a
// batch's tail images go through the backbone together, so images kept at
// their own size (VisA at `full`) are further grouped by shape, each group
// with the views its shape keeps (data::for_image_shape: rotflip on a
// non-square image keeps flip, 180 and 180 + flip). Rows are ordered
// (training batch, shape group, view, image, patch); one shape is the
// reference's order.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "tailedcore/data/augment.h"

namespace tc::pipeline {

/// Training images per batch of the reference's loader.
constexpr int64_t kReferenceBatch = 128;

struct TailViewGroup {
  std::vector<int64_t> images;  // training indices, ascending
  int64_t h = 0, w = 0;         // the images' shape before the views (the backbone's input)
  data::AugmentSpec spec;       // `spec` for that shape
};

/// tail_indices int64 ascending; shapes[k]: (h, w) of tail image k as the
/// views start from it (uncropped for rot*flip, the crop for rotflip).
std::vector<TailViewGroup> tail_view_groups(const at::Tensor& tail_indices,
                                            const std::vector<std::pair<int64_t, int64_t>>& shapes,
                                            const data::AugmentSpec& spec);

}  // namespace tc::pipeline
