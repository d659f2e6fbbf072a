#include "tailedcore/sampling/class_size_patchwise.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/similarity.h"
#include "tailedcore/sampling/thresholds.h"

namespace tc::sampling {

at::Tensor patchwise_class_sizes(const at::Tensor& features, int64_t patches_per_image,
                                 const std::string& th_type, dist::Comm& comm) {
  const int64_t P = patches_per_image;
  TC_CHECK(features.dim() == 2 && P >= 1 && features.size(0) % P == 0 && features.size(0) >= P,
           "patch-wise class sizes need [N * P, C] features with P = ", P, ": got ", features.sizes());
  // Checked by name: the config's names (ada_trim_min-mode) are no threshold rules.
  Threshold rule = Threshold::kSymmin;
  bool scalar = false;
  for (const Threshold t : {Threshold::kSymmin, Threshold::kSymavg, Threshold::kIndep})
    if (th_type == threshold_name(t)) rule = t, scalar = true;
  TC_CHECK(scalar, "tail_th_type '", th_type, "' with tail_lof: the patch-wise class sizes ",
           "exist only for symmin, symavg and indep (the reference raises NotImplementedError)");
  const int64_t N = features.size(0) / P, C = features.size(1);
  const auto per_position = features.to(torch::kFloat32).view({N, P, C});
  const auto mine = dist::shard_range(P, comm.rank(), comm.size());
  auto local = torch::empty({mine.size(), N}, torch::kFloat32);
  for (int64_t p = mine.begin; p < mine.end; ++p) {
    const auto x = per_position.select(1, p);                               // [N, C], strided
    const auto xn = normalized_rows(x);                                      // F.normalize
    const auto sim = ExactSimilarity(xn).rows(0, N);                          // N x N, exact-rounded
    const float th = scalar_threshold(rule, std::get<0>(sim.min(1)), /*factor=*/2);  // within an image
    const auto mask = sim >= th;
    const auto count_map = mask.to(torch::kInt64) * mask.sum(1, true);      // M_ij * r_i
    // Mean vote: int64 column sums over int64 non-zero counts, true division in float32.
    local[p - mine.begin] =
        count_map.sum(0).to(torch::kFloat32) / (count_map != 0).sum(0).to(torch::kFloat32);
  }
  const auto all = comm.allgatherv(local);  // [P, N] in position order
  return all.t().contiguous().view({N * P});
}

}  // namespace tc::sampling
