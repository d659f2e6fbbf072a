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

LofResult patchwise_lof(const at::Tensor& local, const core::PatchGrids& grids,
                        const LofOptions& opts, dist::Comm& comm) {
  TC_CHECK(opts.keep_quantile > 0 && opts.keep_quantile <= 1, "LOF keep quantile ",
           opts.keep_quantile, ": expected (0, 1]");
  const auto per_pos = rows_by_position(local, grids, opts.proj_dim, opts.seed, comm);
  std::vector<torch::Tensor> scores;
  for (const auto& g : per_pos) scores.push_back(lof_of_positions(g, opts.k, opts.cuda_device));
  LofResult r;
  r.scores = gather_positions(scores, grids, comm);
  r.kept_indices = keep_below_quantile(r.scores, opts.keep_quantile);
  return r;
}

}  // namespace tc::sampling
