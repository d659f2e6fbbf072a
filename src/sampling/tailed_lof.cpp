#include "tailedcore/sampling/tailed_lof.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/sampling/class_size_patchwise.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/thresholds.h"

namespace tc::sampling {

LofResult tailed_lof(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                     Threshold rule, dist::Comm& comm) {
  return tailed_lof(local, grids_of_equal_images(local, patches_per_image, comm), opts, rule, comm);
}

LofResult tailed_lof(const at::Tensor& local, const core::PatchGrids& grids, const LofOptions& opts,
                     Threshold rule, dist::Comm& comm) {
  opts.validate("");
  check_patchwise(rule, "TailedLOF");
  // One projection and one exchange for both scores, as the reference reduces the features once.
  const auto per_pos = rows_by_position(local, grids, opts.proj_dim, opts.seed, comm);
  std::vector<torch::Tensor> cs, lofs;
  for (const auto& g : per_pos) {
    cs.push_back(class_sizes_of_positions(g, rule));
    lofs.push_back(lof_of_positions(g, opts.k, opts.cuda_device));
  }
  const auto class_sizes = gather_positions(cs, grids, comm);
  const auto lof = gather_positions(lofs, grids, comm);
  // float32 tensor ops in the reference's order. A NaN class size (a column
  // nobody votes for) makes the max NaN and so every product NaN, which keeps
  // nothing -- as in the reference.
  const auto few_shot = 1 - class_sizes / class_sizes.max();
  LofResult r;
  r.scores = (lof * few_shot).contiguous();
  r.kept_indices = keep_below_quantile(r.scores, opts.keep_quantile);
  return r;
}

}  // namespace tc::sampling
