#include "tailedcore/sampling/lof.h"

#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/quantile.h"

namespace tc::sampling {

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
