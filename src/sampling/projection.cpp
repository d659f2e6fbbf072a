#include "tailedcore/sampling/projection.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "tailedcore/core/check.h"

namespace tc::sampling {

at::Tensor random_projection(int64_t in_dim, int64_t out_dim, uint64_t seed) {
  TC_CHECK(in_dim > 0 && out_dim > 0, "projection ", in_dim, " -> ", out_dim, ": expected positive sizes");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_dim));
  return torch::empty({in_dim, out_dim}, torch::kFloat32).uniform_(-bound, bound, gen);
}

at::Tensor project(const at::Tensor& x_in, int64_t out_dim, uint64_t seed, int64_t first_row) {
  if (out_dim <= 0 || out_dim == x_in.size(1)) return x_in.to(torch::kFloat32).contiguous();
  TC_CHECK(first_row >= 0, "projection: first row ", first_row, " is negative");
  const auto x = x_in.to(torch::kFloat32).contiguous();
  const auto w = random_projection(x.size(1), out_dim, seed);
  const int64_t first = first_row, end = first_row + x.size(0), C = kProjectRows;
  auto out = torch::empty({x.size(0), out_dim}, torch::kFloat32);
  // Inside a parallel region OpenBLAS runs one thread: each product is single-threaded.
  at::parallel_for(first / C, (end + C - 1) / C, 1, [&](int64_t begin, int64_t stop) {
    for (int64_t c = begin; c < stop; ++c) {
      const int64_t lo = std::max(c * C, first), hi = std::min(c * C + C, end);
      auto dst = out.narrow(0, lo - first, hi - lo);
      if (hi - lo == C) {
        at::mm_out(dst, x.narrow(0, lo - first, C), w);
        continue;
      }
      auto whole = torch::zeros({C, x.size(1)}, torch::kFloat32);
      whole.narrow(0, lo - c * C, hi - lo).copy_(x.narrow(0, lo - first, hi - lo));
      dst.copy_(whole.mm(w).narrow(0, lo - c * C, hi - lo));
    }
  });
  return out;
}

}  // namespace tc::sampling
