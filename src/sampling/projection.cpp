#include "tailedcore/sampling/projection.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "tailedcore/core/check.h"

namespace tc::sampling {

at::Tensor random_projection(int64_t in_dim, int64_t out_dim, uint64_t seed) {
  TC_CHECK(in_dim > 0 && out_dim > 0, "projection ", in_dim, " -> ", out_dim,
           ": expected positive sizes");
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
  const int64_t c_begin = first / C, c_end = (end + C - 1) / C;
  const int threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), c_end - c_begin)));
#pragma omp parallel num_threads(threads)
  {
    // OpenBLAS (OpenMP build) runs as many threads as omp_get_max_threads() says,
    // and BLAS threads change the bits: one each, also when this region has one thread.
    omp_set_num_threads(1);
    // One product's rows and result per thread, the same call whole or not.
    auto rows = torch::empty({C, x.size(1)}, torch::kFloat32);
    auto product = torch::empty({C, out_dim}, torch::kFloat32);
#pragma omp for schedule(static)
    for (int64_t c = c_begin; c < c_end; ++c) {
      const int64_t lo = std::max(c * C, first), hi = std::min(c * C + C, end);
      if (hi - lo < C) rows.zero_();
      rows.narrow(0, lo - c * C, hi - lo).copy_(x.narrow(0, lo - first, hi - lo));
      at::mm_out(product, rows, w);
      out.narrow(0, lo - first, hi - lo).copy_(product.narrow(0, lo - c * C, hi - lo));
    }
  }
  return out;
}

}  // namespace tc::sampling
