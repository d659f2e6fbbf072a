#include "tailedcore/pipeline/tail_view_groups.h"

#include <algorithm>

#include "tailedcore/core/check.h"

namespace tc::pipeline {

std::vector<TailViewGroup> tail_view_groups(const at::Tensor& tail_indices,
                                            const std::vector<std::pair<int64_t, int64_t>>& shapes,
                                            const data::AugmentSpec& spec) {
  const auto idx = tail_indices.contiguous();
  const int64_t n = idx.numel();
  TC_ASSERT(static_cast<int64_t>(shapes.size()) == n, n, " tail images, ", shapes.size(),
            " shapes");
  const int64_t* t = idx.data_ptr<int64_t>();
  std::vector<TailViewGroup> out;
  size_t batch_start = 0;  // the first group of the current training batch
  for (int64_t k = 0; k < n; ++k) {
    if (k > 0 && t[k] / kReferenceBatch != t[k - 1] / kReferenceBatch) batch_start = out.size();
    const auto [h, w] = shapes[k];
    auto g = std::find_if(out.begin() + batch_start, out.end(),
                          [&](const TailViewGroup& x) { return x.h == h && x.w == w; });
    if (g == out.end())
      g = out.insert(out.end(), TailViewGroup{{}, h, w, data::for_image_shape(spec, h, w)});
    g->images.push_back(t[k]);
  }
  return out;
}

}  // namespace tc::pipeline
