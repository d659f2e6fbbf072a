#include "tailedcore/sampling/lof.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/quantile.h"

namespace tc::sampling {

at::Tensor local_outlier_factor(const at::Tensor& x_in, int64_t k) {
  TC_CHECK(x_in.dim() == 3, "LOF expects [sets, points, dim]: got ", x_in.sizes());
  const int64_t n = x_in.size(1);
  TC_CHECK(n >= 2, "LOF needs at least 2 images: got ", n);
  const int64_t k_eff = std::min(k, n - 1);
  // Distances in float64 (sklearn's brute force upcasts float32 inputs).
  const auto x = x_in.to(torch::kFloat64);
  const auto sq = (x * x).sum(2);                                          // [B, N]
  auto d2 = sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * torch::bmm(x, x.transpose(1, 2));
  auto dist = d2.clamp_min_(0).sqrt_();
  // A point is not its own neighbour.
  dist.diagonal(0, 1, 2).fill_(std::numeric_limits<double>::infinity());
  auto [knn_dist, knn_idx] = dist.topk(k_eff, 2, /*largest=*/false, /*sorted=*/true);  // [B, N, k]
  const auto k_distance = knn_dist.select(2, k_eff - 1);                    // [B, N]
  // reach(a, b) = max(k-distance(b), d(a, b)) over a's neighbours b.
  const auto nb_kdist = k_distance.gather(1, knn_idx.flatten(1)).view_as(knn_dist);
  const auto reach = torch::maximum(nb_kdist, knn_dist);
  const auto lrd = 1.0 / (reach.mean(2) + 1e-10);                           // [B, N]
  const auto nb_lrd = lrd.gather(1, knn_idx.flatten(1)).view_as(knn_dist);
  return nb_lrd.mean(2) / lrd;
}

at::Tensor keep_below_quantile(const at::Tensor& scores, double q) {
  const double th = linear_quantile(scores.to(torch::kFloat32), q);
  return torch::nonzero(scores < th).flatten();
}

LofResult patchwise_lof(const at::Tensor& features, int64_t patches_per_image,
                        const LofOptions& opts, dist::Comm& comm) {
  // The blocked kernel picks neighbours from a float32 Gram matrix per
  // (position, image), re-ranked in float64, without the [B, N, N] distance
  // tensor: the tensor version's scores (results/bench/lof.md for the speed).
  return patchwise_lof_blocked(features, patches_per_image, opts, comm);
}

}  // namespace tc::sampling
