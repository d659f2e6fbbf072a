#include "tailedcore/core/patch_grids.h"

#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"

namespace tc::core {

PatchGrids PatchGrids::uniform(int64_t images, int64_t h, int64_t w) {
  TC_CHECK(images >= 0, "patch grids of ", images, " images: expected >= 0");
  PatchGrids g;
  g.append(of(torch::tensor({h, w}, torch::kInt64).view({1, 2}).expand({images, 2})));
  return g;
}

PatchGrids PatchGrids::of(const at::Tensor& hw_in) {
  TC_CHECK(hw_in.dim() == 2 && hw_in.size(1) == 2, "patch grids must be [images, 2] (h, w): got ",
           hw_in.sizes());
  const auto hw = hw_in.to(torch::kInt64).contiguous();
  const auto a = hw.accessor<int64_t, 2>();
  PatchGrids g;
  g.h_.reserve(hw.size(0));
  g.w_.reserve(hw.size(0));
  g.offsets_.reserve(hw.size(0) + 1);
  for (int64_t i = 0; i < hw.size(0); ++i) {
    TC_CHECK(a[i][0] >= 1 && a[i][1] >= 1, "patch grid of image ", i, " is ", a[i][0], " x ",
             a[i][1], ": expected at least 1 x 1");
    g.h_.push_back(a[i][0]);
    g.w_.push_back(a[i][1]);
    g.offsets_.push_back(g.offsets_.back() + a[i][0] * a[i][1]);
  }
  return g;
}

int64_t PatchGrids::image_of_row(int64_t row) const {
  TC_ASSERT(row >= 0 && row < rows(), "row ", row, " outside the ", rows(), " rows");
  return std::upper_bound(offsets_.begin(), offsets_.end(), row) - offsets_.begin() - 1;
}

bool PatchGrids::is_uniform() const {
  for (size_t i = 1; i < h_.size(); ++i)
    if (h_[i] != h_[0] || w_[i] != w_[0]) return false;
  return true;
}

at::Tensor PatchGrids::hw() const {
  auto out = torch::empty({images(), 2}, torch::kInt64);
  auto a = out.accessor<int64_t, 2>();
  for (int64_t i = 0; i < images(); ++i) a[i][0] = h_[i], a[i][1] = w_[i];
  return out;
}

PatchGrids PatchGrids::slice(int64_t first, int64_t count) const {
  TC_ASSERT(first >= 0 && count >= 0 && first + count <= images(), "images ", first, "+", count,
            " of ", images());
  return of(hw().narrow(0, first, count));
}

void PatchGrids::append(const PatchGrids& more) {
  for (int64_t i = 0; i < more.images(); ++i) {
    h_.push_back(more.h_[i]);
    w_.push_back(more.w_[i]);
    offsets_.push_back(offsets_.back() + more.per_image(i));
  }
}

std::vector<PatchGrids::Group> PatchGrids::groups() const {
  std::vector<Group> out;
  for (int64_t i = 0; i < images(); ++i) {
    auto g = std::find_if(out.begin(), out.end(),
                          [&](const Group& x) { return x.h == h_[i] && x.w == w_[i]; });
    if (g == out.end()) g = out.insert(out.end(), Group{h_[i], w_[i], {}});
    g->images.push_back(i);
  }
  return out;
}

}  // namespace tc::core
