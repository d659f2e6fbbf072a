#include "tailedcore/sampling/lof.h"

#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/lof_blocked.h"

namespace tc::sampling {

at::Tensor keep_below_quantile(const at::Tensor& scores, double q) {
  const auto th = torch::quantile(scores.to(torch::kFloat32), q);
  return torch::nonzero(scores < th).flatten();
}

void save_lof(const std::filesystem::path& path, const LofResult& result, const std::string& filter,
              const std::string& config_hash) {
  io::H5Writer w(path, "lof", config_hash);
  w.write("lof_scores", result.scores);
  w.write("kept_indices", result.kept_indices);
  w.set_attr("filter", filter);
  w.commit();
}

LofResult patchwise_lof(const at::Tensor& features, int64_t patches_per_image,
                        const LofOptions& opts, dist::Comm& comm) {
  // The blocked kernel picks neighbours from a float32 Gram matrix per
  // (position, image), re-ranked in float64, without the [B, N, N] distance
  // tensor: the tensor version's scores (results/bench/lof.md for the speed).
  return patchwise_lof_blocked(features, patches_per_image, opts, comm);
}

}  // namespace tc::sampling
