// The patch grid of every image of a set whose rows are image-major: image i
// owns rows [row_begin(i), row_begin(i) + per_image(i)). Images kept at their
// own size (VisA at `full`) have grids of several sizes; a set of one size is
// the one-group case of the same rules (DESIGN.md "Mixed native sizes").
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace tc::core {

class PatchGrids {
 public:
  /// No images.
  PatchGrids() = default;
  /// `images` images of one h x w grid.
  static PatchGrids uniform(int64_t images, int64_t h, int64_t w);
  /// hw [N, 2] integer: (h, w) of each image; each must be >= 1.
  static PatchGrids of(const at::Tensor& hw);

  int64_t images() const { return static_cast<int64_t>(h_.size()); }
  int64_t h(int64_t i) const { return h_[i]; }
  int64_t w(int64_t i) const { return w_[i]; }
  int64_t per_image(int64_t i) const { return h_[i] * w_[i]; }
  /// First row of image i; i == images() gives rows().
  int64_t row_begin(int64_t i) const { return offsets_[i]; }
  int64_t rows() const { return offsets_.back(); }
  /// The image owning `row` (0 <= row < rows()).
  int64_t image_of_row(int64_t row) const;
  /// Every image has the grid of the first (true for no images).
  bool is_uniform() const;
  /// [N, 2] int64 (h, w) per image.
  at::Tensor hw() const;
  /// Images [first, first + count).
  PatchGrids slice(int64_t first, int64_t count) const;
  /// These images followed by `more`'s.
  void append(const PatchGrids& more);

  /// The images that share one grid, ascending; patch-wise statistics (LOF,
  /// class sizes) compare a position only among them.
  struct Group {
    int64_t h = 0, w = 0;
    std::vector<int64_t> images;  // indices into this set, ascending
    int64_t per_image() const { return h * w; }
  };
  /// One group per distinct grid, in the order of each grid's first image.
  std::vector<Group> groups() const;

 private:
  std::vector<int64_t> h_, w_;
  std::vector<int64_t> offsets_{0};
};

}  // namespace tc::core
