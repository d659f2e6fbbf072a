#include "tailedcore/sampling/lof_blocked.h"

#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {
namespace {

// Positions per Gram product: bounds the [block, N, N] float64 buffer to ~64 MiB.
int64_t positions_per_block(int64_t n) {
  const int64_t budget = int64_t{8} << 20;  // doubles
  return std::clamp<int64_t>(budget / std::max<int64_t>(1, n * n), 1, 256);
}

// The k smallest (distance^2, index) pairs of row i, excluding i, ascending,
// ties by index. Same distance formula as lof.cpp: (|a|^2 + |b|^2) - 2 a.b, clamped at 0.
void nearest(const double* gram_row, const double* sq, int64_t n, int64_t i, int64_t k,
             double* out_d2, int64_t* out_idx) {
  int64_t filled = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (j == i) continue;
    double d2 = (sq[i] + sq[j]) - 2 * gram_row[j];
    if (d2 < 0) d2 = 0;
    if (filled == k && !(d2 < out_d2[k - 1])) continue;  // equal: the earlier index stays
    int64_t pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && out_d2[pos - 1] > d2) {
      out_d2[pos] = out_d2[pos - 1];
      out_idx[pos] = out_idx[pos - 1];
      --pos;
    }
    out_d2[pos] = d2;
    out_idx[pos] = j;
  }
}

// LOF of one set from its neighbour lists: knn_d [n, k] distances, knn_i [n, k].
void lof_from_neighbours(const double* knn_d, const int64_t* knn_i, int64_t n, int64_t k,
                         double* lrd, double* out) {
  for (int64_t a = 0; a < n; ++a) {
    double s = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t b = knn_i[a * k + j];
      s += std::max(knn_d[b * k + k - 1], knn_d[a * k + j]);
    }
    lrd[a] = 1.0 / (s / static_cast<double>(k) + 1e-10);
  }
  for (int64_t a = 0; a < n; ++a) {
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += lrd[knn_i[a * k + j]];
    out[a] = s / static_cast<double>(k) / lrd[a];
  }
}

}  // namespace

at::Tensor local_outlier_factor_blocked(const at::Tensor& x_in, int64_t k) {
  TC_CHECK(x_in.dim() == 3, "LOF expects [sets, points, dim]: got ", x_in.sizes());
  const int64_t B = x_in.size(0), n = x_in.size(1);
  TC_CHECK(n >= 2, "LOF needs at least 2 images: got ", n);
  TC_CHECK(k >= 1, "LOF k = ", k, ": expected >= 1");
  const int64_t ke = std::min(k, n - 1);
  auto out = torch::empty({B, n}, torch::kFloat64);
  const int64_t block = positions_per_block(n);
  for (int64_t b0 = 0; b0 < B; b0 += block) {
    const int64_t c = std::min(block, B - b0);
    const auto x = x_in.narrow(0, b0, c).to(torch::kFloat64).contiguous();
    const auto sq = (x * x).sum(2).contiguous();                      // [c, n]
    const auto gram = torch::bmm(x, x.transpose(1, 2)).contiguous();  // [c, n, n]
    std::vector<double> knn_d(c * n * ke);
    std::vector<int64_t> knn_i(c * n * ke);
    const double* g = gram.data_ptr<double>();
    const double* s = sq.data_ptr<double>();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < c * n; ++r) {
      const int64_t set = r / n, i = r % n;
      double* d = knn_d.data() + r * ke;
      nearest(g + (set * n + i) * n, s + set * n, n, i, ke, d, knn_i.data() + r * ke);
      for (int64_t j = 0; j < ke; ++j) d[j] = std::sqrt(d[j]);
    }
    double* o = out.data_ptr<double>() + b0 * n;
#pragma omp parallel
    {
      std::vector<double> lrd(n);
#pragma omp for schedule(static)
      for (int64_t set = 0; set < c; ++set)
        lof_from_neighbours(knn_d.data() + set * n * ke, knn_i.data() + set * n * ke, n, ke,
                            lrd.data(), o + set * n);
    }
  }
  return out;
}

LofResult patchwise_lof_blocked(const at::Tensor& features, int64_t patches_per_image,
                                const LofOptions& opts, dist::Comm& comm) {
  TC_CHECK(features.dim() == 2, "LOF: features must be [rows, dim]: got ", features.sizes());
  TC_CHECK(patches_per_image > 0 && features.size(0) % patches_per_image == 0,
           "LOF: ", features.size(0), " rows are not a whole number of images of ",
           patches_per_image, " patches");
  TC_CHECK(opts.keep_quantile > 0 && opts.keep_quantile <= 1, "LOF keep quantile ",
           opts.keep_quantile, ": expected (0, 1]");
  const int64_t N = features.size(0) / patches_per_image, P = patches_per_image;
  const auto mine = dist::shard_range(P, comm.rank(), comm.size());
  // The same projection rule as patchwise_lof.
  const auto w = opts.proj_dim > 0 && opts.proj_dim != features.size(1)
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
    parts.push_back(local_outlier_factor_blocked(x.transpose(0, 1), opts.k).to(torch::kFloat32));
    progress.advance(c);
  }
  auto local = parts.empty() ? torch::empty({0, N}, torch::kFloat32) : torch::cat(parts);
  auto all = comm.allgatherv(local);  // [P, N]
  LofResult r;
  r.scores = all.t().contiguous().view({N * P});
  r.kept_indices = keep_below_quantile(r.scores, opts.keep_quantile);
  return r;
}

}  // namespace tc::sampling
