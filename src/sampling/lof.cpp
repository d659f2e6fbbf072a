#include "tailedcore/sampling/lof.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/quantile.h"

namespace tc::sampling {

at::Tensor keep_below_quantile(const at::Tensor& scores, double q) {
  const double th = linear_quantile(scores.to(torch::kFloat32), q);
  return torch::nonzero(scores < th).flatten();
}

LofResult patchwise_lof(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                        dist::Comm& comm) {
  return patchwise_lof(local, grids_of_equal_images(local, patches_per_image, comm), opts, comm);
}

void LofOptions::validate(const std::string& prefix) const {
  TC_CHECK(k >= 1, prefix, "lof_k = ", k, ": expected >= 1");
  TC_CHECK(keep_quantile > 0 && keep_quantile <= 1, prefix, "lof_keep = ", keep_quantile,
           ": expected a quantile in (0, 1]");
  TC_CHECK(proj_dim >= 0, prefix, "greedy_proj_dim = ", proj_dim,
           ": expected >= 0 (0 = no projection)");
}

LofResult patchwise_lof(const at::Tensor& local, const core::PatchGrids& grids,
                        const LofOptions& opts, dist::Comm& comm) {
  opts.validate("");
  const auto per_pos = rows_by_position(local, grids, opts.proj_dim, opts.seed, comm);
  std::vector<torch::Tensor> scores;
  for (const auto& g : per_pos) scores.push_back(lof_of_positions(g, opts.k, opts.cuda_device));
  LofResult r;
  r.scores = gather_positions(scores, grids, comm);
  r.kept_indices = keep_below_quantile(r.scores, opts.keep_quantile);
  return r;
}

}  // namespace tc::sampling
