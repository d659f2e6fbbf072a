#include "tailedcore/eval/normalize.h"

#include <torch/torch.h>

namespace tc::eval {

at::Tensor min_max_normalize(const at::Tensor& values) {
  const auto x = values.to(torch::kFloat32);
  if (x.numel() == 0) return x.clone();
  const auto lo = x.min(), hi = x.max();
  return (x - lo) / (hi - lo + 1e-5);
}

}  // namespace tc::eval
