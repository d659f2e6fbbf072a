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
    case AugmentType::kNone: return {};
    case AugmentType::kRot15Flip: return {name, 15, true};
    case AugmentType::kRot30Flip: return {name, 30, true};
    case AugmentType::kRot45Flip: return {name, 45, true};
    case AugmentType::kRotFlip: return {name, 90, false};
  }
  return {};
}

std::vector<std::pair<int64_t, bool>> view_sequence(const AugmentSpec& spec) {
  std::vector<std::pair<int64_t, bool>> out;
  if (spec.angle_step <= 0) return out;
  for (int64_t angle = 0; angle < 360; angle += spec.angle_step)
    for (bool flip : {false, true})
      if (angle != 0 || flip) out.emplace_back(angle, flip);
  return out;
}

at::Tensor rotate_nearest(const at::Tensor& image, double degrees) {
  TC_CHECK(image.dim() == 4, "rotate_nearest expects [B, C, H, W]: got ", image.sizes());
  const int64_t h = image.size(2), w = image.size(3);
  // torchvision builds the sampling grid at pixel centres relative to the image
  // centre and samples with grid_sample(nearest, align_corners=False); we do the
  // same arithmetic in float32 so the chosen source pixels agree.
  const float rad = static_cast<float>(degrees * M_PI / 180.0);
  const float c = std::cos(rad), s = std::sin(rad);
  auto xs = torch::arange(w, torch::kFloat32) - (w * 0.5f - 0.5f);
  auto ys = torch::arange(h, torch::kFloat32) - (h * 0.5f - 0.5f);
  auto gy = ys.view({h, 1}).expand({h, w});
  auto gx = xs.view({1, w}).expand({h, w});
  // Inverse rotation: output pixel -> source pixel.
  auto sx = c * gx - s * gy + (w * 0.5f - 0.5f);
  auto sy = s * gx + c * gy + (h * 0.5f - 0.5f);
  auto ix = torch::round(sx).to(torch::kInt64);  // round half to even, as nearbyint
  auto iy = torch::round(sy).to(torch::kInt64);
  auto valid = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h);
  auto flat = (iy.clamp(0, h - 1) * w + ix.clamp(0, w - 1)).flatten();
  auto src = image.flatten(2);                               // [B, C, H*W]
  auto out = src.index_select(2, flat).view(image.sizes());  // [B, C, H, W]
  return out * valid.to(image.dtype());
}

at::Tensor make_view(const at::Tensor& image, const AugmentSpec& spec, int64_t angle, bool flip,
                     int64_t crop) {
  TC_CHECK(image.dim() == 4, "make_view expects [B, 3, H, W]: got ", image.sizes());
  TC_CHECK(crop >= 0, "view crop ", crop, ": expected a side > 0, or kFullSize (0) for the image's size");
  torch::Tensor x = flip ? image.flip({3}) : image;
  if (!spec.from_uncropped) {
    // rotflip: quarter turns of the square crop are exact.
    TC_CHECK(angle % 90 == 0, "rotflip views need multiples of 90 degrees: got ", angle);
    TC_CHECK(image.size(2) == image.size(3), "rotflip turns the image by quarter turns: it needs a square ",
             "image, got ", image.size(2), "x", image.size(3), " (use rot15flip, rot30flip or rot45flip)");
    return torch::rot90(x, angle / 90, {2, 3}).contiguous();
  }
  const int64_t out_h = crop == kFullSize ? image.size(2) : crop;
  const int64_t out_w = crop == kFullSize ? image.size(3) : crop;
  if (angle != 0) {
    const int64_t pad_h = rotation_padding(out_h, out_w, out_h);
    const int64_t pad_w = rotation_padding(out_h, out_w, out_w);
    x = torch::nn::functional::pad(
        x, torch::nn::functional::PadFuncOptions({pad_w, pad_w, pad_h, pad_h}).mode(torch::kReplicate));
    x = rotate_nearest(x, static_cast<double>(angle));
  }
  return center_crop(x, out_h, out_w).contiguous();
}

}  // namespace tc::data
