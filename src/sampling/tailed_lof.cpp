#include "tailedcore/sampling/tailed_lof.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/sampling/class_size_patchwise.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {

LofResult tailed_lof(const at::Tensor& features, int64_t patches_per_image, const LofOptions& opts,
                     const std::string& th_type, dist::Comm& comm) {
  TC_CHECK(features.dim() == 2, "TailedLOF: features must be [rows, dim]: got ", features.sizes());
  // One projection for both scores, as the reference reduces the features once.
  const auto projected = project(features, opts.proj_dim, opts.seed);
  const auto class_sizes = patchwise_class_sizes(projected, patches_per_image, th_type, comm);
  LofOptions unprojected = opts;
  unprojected.proj_dim = 0;
  const auto lof = patchwise_lof(projected, patches_per_image, unprojected, comm).scores;
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
