#include "tailedcore/eval/anomaly_map.h"

#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"

namespace tc::eval {
namespace {

// scipy's "reflect": the edge sample is repeated (d c b a | a b c d | d c b a).
int64_t reflect(int64_t i, int64_t n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

// Correlates along `dim` (1 or 2) of [n, H, W] float64 with the 1-d kernel
// (host, float64); x on any device.
torch::Tensor filter_axis(const torch::Tensor& x, const torch::Tensor& kernel, int64_t dim) {
  const int64_t len = x.size(dim), radius = (kernel.size(0) - 1) / 2;
  std::vector<int64_t> idx(len + 2 * radius);
  for (int64_t i = 0; i < len + 2 * radius; ++i) idx[i] = reflect(i - radius, len);
  const auto padded = x.index_select(dim, torch::tensor(idx).to(x.device()));
  auto out = torch::zeros_like(x);
  for (int64_t t = 0; t < kernel.size(0); ++t)
    out += padded.narrow(dim, t, len) * kernel[t].item<double>();
  return out;
}

}  // namespace

at::Tensor gaussian_blur(const at::Tensor& maps, double sigma, double truncate) {
  TC_CHECK(maps.dim() == 3, "gaussian_blur expects [n, H, W]: got ", maps.sizes());
  const int64_t radius = static_cast<int64_t>(truncate * sigma + 0.5);
  auto k = torch::arange(-radius, radius + 1, torch::kFloat64);
  k = torch::exp(-0.5 * k * k / (sigma * sigma));
  k = k / k.sum();
  const auto x = maps.to(torch::kFloat64);
  return filter_axis(filter_axis(x, k, 1), k, 2).to(torch::kFloat32);
}

at::Tensor patch_scores_to_maps(const at::Tensor& patch_scores, int64_t out_h, int64_t out_w,
                                double sigma) {
  TC_CHECK(patch_scores.dim() == 3, "patch scores must be [n, h, w]: got ", patch_scores.sizes());
  if (patch_scores.size(0) == 0) return torch::empty({0, out_h, out_w}, torch::kFloat32);
  namespace F = torch::nn::functional;
  const auto up = F::interpolate(patch_scores.to(torch::kFloat32).unsqueeze(1),
                                 F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{out_h, out_w})
                                     .mode(torch::kBilinear)
                                     .align_corners(false))
                      .squeeze(1);
  return gaussian_blur(up, sigma);
}

}  // namespace tc::eval
