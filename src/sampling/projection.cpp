#include "tailedcore/sampling/projection.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"

namespace tc::sampling {

at::Tensor random_projection(int64_t in_dim, int64_t out_dim, uint64_t seed) {
  TC_CHECK(in_dim > 0 && out_dim > 0, "projection ", in_dim, " -> ", out_dim, ": expected positive sizes");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_dim));
  return torch::empty({in_dim, out_dim}, torch::kFloat32).uniform_(-bound, bound, gen);
}

at::Tensor project(const at::Tensor& x, int64_t out_dim, uint64_t seed) {
  if (out_dim <= 0 || out_dim == x.size(1)) return x.to(torch::kFloat32).contiguous();
  return x.to(torch::kFloat32).mm(random_projection(x.size(1), out_dim, seed)).contiguous();
}

}  // namespace tc::sampling
