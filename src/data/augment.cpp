#include "tailedcore/data/augment.h"

#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"
#include "tailedcore/data/transforms.h"

namespace tc::data {
namespace {

// Half the growth of an out_h x out_w view's diagonal over its side `side`, rounded
// up: what the rotation needs around that side. ceil((sqrt(2)*224 - 224)/2) = 47
// for the square crop.
int64_t rotation_padding(int64_t out_h, int64_t out_w, int64_t side) {
  const double diagonal = std::sqrt(static_cast<double>(out_h * out_h + out_w * out_w));
  return static_cast<int64_t>(std::ceil((diagonal - side) / 2.0));
}

torch::Tensor center_crop(const torch::Tensor& x, int64_t out_h, int64_t out_w) {
  const auto [top, left] = center_crop_origin(x.size(-1), x.size(-2), out_w, out_h);
  return x.narrow(-2, top, out_h).narrow(-1, left, out_w);
}

}  // namespace

const core::NameTable<AugmentType>& augment_types() {
  static const core::NameTable<AugmentType> table({{AugmentType::kNone, ""},
                                                   {AugmentType::kRot15Flip, "rot15flip"},
                                                   {AugmentType::kRot30Flip, "rot30flip"},
                                                   {AugmentType::kRot45Flip, "rot45flip"},
                                                   {AugmentType::kRotFlip, "rotflip"}});
  return table;
}

AugmentSpec augment_spec(const std::string& name) {
  switch (augment_types().parse(name, "tail_data_augment_type")) {
    case AugmentType::kNone:
      return {};
    case AugmentType::kRot15Flip:
      return {name, 15, true};
    case AugmentType::kRot30Flip:
      return {name, 30, true};
    case AugmentType::kRot45Flip:
      return {name, 45, true};
    case AugmentType::kRotFlip:
      return {name, 90, false};
  }
  return {};
}

AugmentSpec for_image_shape(AugmentSpec spec, int64_t h, int64_t w) {
  if (!spec.from_uncropped && spec.angle_step > 0) spec.quarter_turns = h == w;
  return spec;
}

std::vector<std::pair<int64_t, bool>> view_sequence(const AugmentSpec& spec) {
  std::vector<std::pair<int64_t, bool>> out;
  if (spec.angle_step <= 0) return out;
  for (int64_t angle = 0; angle < 360; angle += spec.angle_step) {
    if (!spec.from_uncropped && !spec.quarter_turns && angle % 180 != 0) continue;
    for (bool flip : {false, true})
      if (angle != 0 || flip) out.emplace_back(angle, flip);
  }
  TC_ASSERT(static_cast<int64_t>(out.size()) == spec.views(), spec.name, ": ", out.size(),
            " views");
  return out;
}

at::Tensor rotate_nearest(const at::Tensor& image, double degrees) {
  TC_CHECK(image.dim() == 4, "rotate_nearest expects [B, C, H, W]: got ", image.sizes());
  const int64_t h = image.size(2), w = image.size(3);
  // torchvision 0.14's F.rotate(img, angle) on a float tensor, op for op with
  // the same LibTorch operators, so that every output pixel takes the same
  // source pixel: the inverse matrix in double (_get_inverse_affine_matrix
  // with angle -degrees: [cos, sin, 0, -sin, cos, 0]) cast to float32, the
  // base grid from linspace, the grid by bmm with the matrix over half the
  // size, grid_sample(nearest, zeros, align_corners=False). The same formula
  // with a float32 angle picked other pixels for 225 and 315 degrees
  // (Augment.RotationTakesTorchvisionsSourcePixels).
  const double rot = -degrees * (M_PI / 180.0);  // math.radians(-angle)
  const double c = std::cos(rot), s = std::sin(rot);
  const auto theta =
      torch::tensor({c, s, 0.0, -s, c, 0.0}, torch::kFloat64).to(torch::kFloat32).view({1, 2, 3});
  const auto axis = [](int64_t n) {
    return torch::linspace(-static_cast<double>(n) * 0.5 + 0.5,
                           static_cast<double>(n) * 0.5 + 0.5 - 1, n, torch::kFloat32);
  };
  auto base = torch::empty({1, h, w, 3}, torch::kFloat32);
  base.select(3, 0).copy_(axis(w));
  base.select(3, 1).copy_(axis(h).unsqueeze(-1));
  base.select(3, 2).fill_(1);
  const auto half =
      torch::tensor({0.5 * static_cast<double>(w), 0.5 * static_cast<double>(h)}, torch::kFloat32);
  const auto x = image.to(torch::kFloat32);
  const auto grid = base.view({1, h * w, 3}).bmm(theta.transpose(1, 2) / half).view({1, h, w, 2});
  return torch::grid_sampler(x, grid.expand({x.size(0), h, w, 2}), /*nearest*/ 1, /*zeros*/ 0,
                             /*align_corners=*/false);
}

at::Tensor make_view(const at::Tensor& image, const AugmentSpec& spec, int64_t angle, bool flip,
                     int64_t crop) {
  TC_CHECK(image.dim() == 4, "make_view expects [B, 3, H, W]: got ", image.sizes());
  TC_CHECK(crop >= 0, "view crop ", crop,
           ": expected a side > 0, or kFullSize (0) for the image's size");
  torch::Tensor x = flip ? image.flip({3}) : image;
  if (!spec.from_uncropped) {
    // rotflip: quarter turns of the square crop are exact.
    TC_CHECK(angle % 90 == 0, "rotflip views need multiples of 90 degrees: got ", angle);
    TC_CHECK(angle % 180 == 0 || image.size(2) == image.size(3), "rotflip's ", angle,
             " degree view turns the image by a quarter turn: it needs a square image, got ",
             image.size(2), "x", image.size(3), " (for_image_shape leaves those views out)");
    return torch::rot90(x, angle / 90, {2, 3}).contiguous();
  }
  const int64_t out_h = crop == kFullSize ? image.size(2) : crop;
  const int64_t out_w = crop == kFullSize ? image.size(3) : crop;
  if (angle != 0) {
    const int64_t pad_h = rotation_padding(out_h, out_w, out_h);
    const int64_t pad_w = rotation_padding(out_h, out_w, out_w);
    x = torch::nn::functional::pad(
        x, torch::nn::functional::PadFuncOptions({pad_w, pad_w, pad_h, pad_h})
               .mode(torch::kReplicate));
    x = rotate_nearest(x, static_cast<double>(angle));
  }
  return center_crop(x, out_h, out_w).contiguous();
}

}  // namespace tc::data
