#include "tailedcore/sampling/lof.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {
namespace {

// Positions processed together: bounds the [block, N, N] distance buffers.
int64_t positions_per_block(int64_t n) {
  const int64_t budget = int64_t{64} << 20;  // doubles
  return std::max<int64_t>(1, budget / std::max<int64_t>(1, n * n * 3));
}

}  // namespace

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
  const auto th = torch::quantile(scores.to(torch::kFloat32), q);
  return torch::nonzero(scores < th).flatten();
}

LofResult patchwise_lof(const at::Tensor& features, int64_t patches_per_image,
                        const LofOptions& opts, dist::Comm& comm) {
  TC_CHECK(features.dim() == 2, "LOF: features must be [rows, dim]: got ", features.sizes());
  TC_CHECK(patches_per_image > 0 && features.size(0) % patches_per_image == 0, "LOF: ",
           features.size(0), " rows are not a whole number of images of ", patches_per_image, " patches");
  TC_CHECK(opts.keep_quantile > 0 && opts.keep_quantile <= 1, "LOF keep quantile ",
           opts.keep_quantile, ": expected (0, 1]");
  const int64_t N = features.size(0) / patches_per_image, P = patches_per_image;
  const auto mine = dist::shard_range(P, comm.rank(), comm.size());
  // [N, P, D] -> this rank's positions, projected: [P_mine, N, d].
  const auto w = opts.proj_dim > 0 && opts.proj_dim < features.size(1)
                     ? random_projection(features.size(1), opts.proj_dim, opts.seed)
                     : torch::Tensor();
  const auto per_pos = features.view({N, P, -1}).narrow(1, mine.begin, mine.size());
  const int64_t block = positions_per_block(N);
  std::vector<torch::Tensor> parts;
  core::Progress progress("lof", mine.size());
  for (int64_t s = 0; s < mine.size(); s += block) {
    const int64_t c = std::min(block, mine.size() - s);
    auto x = per_pos.narrow(1, s, c).to(torch::kFloat32);  // [N, c, D]
    if (w.defined()) x = x.matmul(w);
    parts.push_back(local_outlier_factor(x.transpose(0, 1).contiguous(), opts.k).to(torch::kFloat32));
    progress.advance(c);
  }
  auto local = parts.empty() ? torch::empty({0, N}, torch::kFloat32) : torch::cat(parts);  // [P_mine, N]
  auto all = comm.allgatherv(local);                                                       // [P, N]
  LofResult r;
  r.scores = all.t().contiguous().view({N * P});
  r.kept_indices = keep_below_quantile(r.scores, opts.keep_quantile);
  return r;
}

}  // namespace tc::sampling
