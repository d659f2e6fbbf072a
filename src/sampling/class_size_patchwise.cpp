#include "tailedcore/sampling/class_size_patchwise.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/similarity.h"
#include "tailedcore/sampling/thresholds.h"

namespace tc::sampling {

void check_patchwise(Threshold rule, const std::string& where) {
  TC_CHECK(is_scalar(rule), where, ": the patch-wise class sizes exist only for symmin, symavg ",
           "and indep, not ", threshold_name(rule), " (the reference raises NotImplementedError)");
}

at::Tensor class_sizes_of_positions(const at::Tensor& per_pos, Threshold rule) {
  const int64_t N = per_pos.size(0), positions = per_pos.size(1);
  // A grid of one image (mixed native sizes): a class of one, the image voting for itself.
  if (N == 1) return torch::ones({positions, 1}, torch::kFloat32);
  auto out = torch::empty({positions, N}, torch::kFloat32);
  for (int64_t p = 0; p < positions; ++p) {
    const auto x = per_pos.select(1, p).to(torch::kFloat32);  // [N, C], strided
    const auto xn = normalized_rows(x);                       // F.normalize
    const auto sim = ExactSimilarity(xn).rows(0, N);          // N x N, exact-rounded
    const float th =
        scalar_threshold(rule, std::get<0>(sim.min(1)), /*factor=*/2);  // within an image
    const auto mask = sim >= th;
    const auto count_map = mask.to(torch::kInt64) * mask.sum(1, true);  // M_ij * r_i
    // Mean vote: int64 column sums over int64 non-zero counts, true division in float32.
    out[p] = count_map.sum(0).to(torch::kFloat32) / (count_map != 0).sum(0).to(torch::kFloat32);
  }
  return out;
}

at::Tensor patchwise_class_sizes(const at::Tensor& local, int64_t patches_per_image, Threshold rule,
                                 dist::Comm& comm) {
  check_patchwise(rule, "patch-wise class sizes");
  const auto grids = grids_of_equal_images(local, patches_per_image, comm);
  std::vector<torch::Tensor> cs;
  for (const auto& g : rows_by_position(local, grids, /*proj_dim=*/0, 0, comm))
    cs.push_back(class_sizes_of_positions(g, rule));
  return gather_positions(cs, grids, comm);
}

}  // namespace tc::sampling
