#include "tailedcore/sampling/coreset.h"

#include <omp.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <random>

#include "tailedcore/core/check.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {

int64_t first_centre(int64_t n, const CoresetOptions& opts) {
  if (opts.start_index >= 0) {
    TC_CHECK(opts.start_index < n, "--start-index ", opts.start_index, " is outside the ", n, " rows");
    return opts.start_index;
  }
  std::mt19937_64 rng(opts.seed * 0x9E3779B97F4A7C15ull + 0x5EED);
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
}

BlockMax update_min_distances(const float* rows, int64_t b, int64_t d, const float* centre,
                              float* min_dist) {
  BlockMax best{-std::numeric_limits<float>::infinity(), -1};
  // One pass over the rows: the step is bound by memory bandwidth, so the
  // distance, the running minimum and the arg-max share it.
#pragma omp parallel
  {
    BlockMax local{-std::numeric_limits<float>::infinity(), -1};
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < b; ++i) {
      const float* r = rows + i * d;
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int64_t k = 0; k < d; ++k) {
        const float diff = r[k] - centre[k];
        acc += diff * diff;
      }
      const float dist = std::sqrt(acc);
      const float m = dist < min_dist[i] ? dist : min_dist[i];
      min_dist[i] = m;
      if (m > local.value) local = {m, i};  // strict: the first of equals stays
    }
#pragma omp critical
    {
      if (local.index >= 0 &&
          (local.value > best.value || (local.value == best.value && local.index < best.index)))
        best = local;
    }
  }
  return best;
}

at::Tensor greedy_coreset(const at::Tensor& features, const CoresetOptions& opts, dist::Comm& comm) {
  TC_CHECK(features.dim() == 2, "greedy coreset: features must be [rows, dim]: got ", features.sizes());
  const int64_t n = features.size(0);
  TC_CHECK(n > 0, "greedy coreset: the feature bank is empty");
  TC_CHECK(opts.ratio > 0 && opts.ratio <= 1, "greedy_ratio = ", opts.ratio,
           " is out of range: expected a ratio in (0, 1]");
  const int64_t m = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * opts.ratio));
  const auto mine = dist::shard_range(n, comm.rank(), comm.size());
  // Each rank projects only its own rows; the projection matrix is the same everywhere.
  const torch::Tensor local =
      project(features.narrow(0, mine.begin, mine.size()), opts.proj_dim, opts.seed).contiguous();
  const int64_t d = local.size(1);
  std::vector<float> min_dist(mine.size(), std::numeric_limits<float>::infinity());
  auto out = torch::empty({m}, torch::kInt64);
  auto sel = out.accessor<int64_t, 1>();
  sel[0] = first_centre(n, opts);
  core::Progress progress("greedy coreset", m);
  progress.advance();
  for (int64_t step = 1; step < m; ++step) {
    const int64_t last = sel[step - 1];
    const int owner = [&] {
      for (int r = 0; r < comm.size(); ++r) {
        const auto rr = dist::shard_range(n, r, comm.size());
        if (last >= rr.begin && last < rr.end) return r;
      }
      return 0;
    }();
    torch::Tensor centre = owner == comm.rank() ? local[last - mine.begin].clone()
                                                : torch::empty({d}, torch::kFloat32);
    centre = comm.broadcast(centre, owner).contiguous();
    const BlockMax bm = update_min_distances(local.data_ptr<float>(), mine.size(), d,
                                             centre.data_ptr<float>(), min_dist.data());
    const auto [value, index] =
        comm.max_loc(bm.index >= 0 ? bm.value : -std::numeric_limits<double>::infinity(),
                     bm.index >= 0 ? mine.begin + bm.index : std::numeric_limits<int64_t>::max());
    sel[step] = index;
    progress.advance();
  }
  return out;
}

}  // namespace tc::sampling
