#include "tailedcore/sampling/projection.h"

#include <ATen/CPUGeneratorImpl.h>
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

at::Tensor project(const at::Tensor& x_in, int64_t out_dim, uint64_t seed, int64_t first_row, int64_t total_rows) {
  if (out_dim <= 0 || out_dim == x_in.size(1)) return x_in.to(torch::kFloat32).contiguous();
  const auto x = x_in.to(torch::kFloat32).contiguous();
  const auto w = random_projection(x.size(1), out_dim, seed);
  const int64_t n = x.size(0), first = first_row, end = first_row + n;
  const int64_t total = total_rows < 0 ? end : total_rows;
  TC_CHECK(first >= 0 && end <= total, "projection of rows ", first, "..", end, " of ", total);
  constexpr int64_t kAlign = 64;
  const auto up = [&](int64_t r) { return std::min(total, (r + kAlign - 1) / kAlign * kAlign); };
  auto out = torch::empty({n, out_dim}, torch::kFloat32);
  // Rows [lo, hi) of the sequence through a product over [call_lo, call_hi),
  // zero rows where this block has none.
  const auto piece = [&](int64_t lo, int64_t hi, int64_t call_lo, int64_t call_hi) {
    if (lo >= hi) return;
    if (call_lo == lo && call_hi == hi) {
      auto dst = out.narrow(0, lo - first, hi - lo);
      torch::mm_out(dst, x.narrow(0, lo - first, hi - lo), w);
      return;
    }
    auto padded = torch::zeros({call_hi - call_lo, x.size(1)}, torch::kFloat32);
    padded.narrow(0, lo - call_lo, hi - lo).copy_(x.narrow(0, lo - first, hi - lo));
    out.narrow(0, lo - first, hi - lo).copy_(padded.mm(w).narrow(0, lo - call_lo, hi - lo));
  };
  const int64_t head_lo = first / kAlign * kAlign;
  const int64_t aligned_first = first % kAlign == 0 ? first : std::min(end, up(first));
  // The head: rows before the first multiple of 64, in the 64-row call they belong to.
  if (aligned_first > first) piece(first, aligned_first, head_lo, up(head_lo + 1));
  // The middle: from a multiple of 64 to a multiple of 64, or to the end.
  const int64_t middle_end = end == total ? end : std::max(aligned_first, end / kAlign * kAlign);
  piece(aligned_first, middle_end, aligned_first, middle_end);
  // The tail: the last rows, in the 64-row call (or the sequence's end) they belong to.
  piece(middle_end, end, middle_end, up(middle_end + 1));
  return out;
}

}  // namespace tc::sampling
