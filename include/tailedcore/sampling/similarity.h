// Cosine self-similarity whose every entry is the same on every machine.
//
// The reference computes xn · xnᵀ as one float32 BLAS product, whose last
// bits follow the BLAS kernel (AVX2 against AVX-512 "Cooperlake"), the
// thread count and the product's shape; class sizes quantise similarities
// and can see a last bit. Here each entry is the float32 nearest to the
// exact dot product of the float32 rows (round to nearest, ties to even):
//  1. a float64 product (any kernel, any blocking) whose error is bounded:
//     |s64 - exact| <= 2 * gamma_E * |a| * |b|, gamma_E = E u / (1 - E u);
//  2. where both ends of s64 -/+ that bound round to one float32, that float
//     is the exact value's rounding, whatever BLAS computed s64;
//  3. the few other entries (those within the bound of a float32 rounding
//     tie: about 1e-5 of them for similarities near 0.5) are recomputed in a
//     fixed order with a compensated (double-double) sum of the exact
//     float64 products, which no kernel, thread count or FMA contraction
//     changes.
// So the rows do not depend on BLAS, threads, block shape or rank count.
// The only departure from correct rounding: an exact value within about
// 1e-28 of a float32 tie may round the other way (identically everywhere).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace tc::sampling {

class ExactSimilarity {
 public:
  /// xn: [N, E] rows, normalised by the caller (the reference's F.normalize
  /// in float32); converted to float32 and kept. cuda_device >= 0: the
  /// float64 products run on that GPU (their bits do not matter, only the
  /// bound does: the entries are the same as on the host).
  explicit ExactSimilarity(const at::Tensor& xn, int cuda_device = -1);

  /// Rows [begin, begin + count) against all N rows: [count, N] float32.
  at::Tensor rows(int64_t begin, int64_t count) const;

  int64_t size() const { return n_; }
  /// Entries recomputed by the fixed-order sum so far (step 3): for logs and benchmarks.
  int64_t recomputed() const { return recomputed_; }

 private:
  at::Tensor x32_;             // [N, E] float32, contiguous
  at::Tensor x64_;             // the same values in float64 (on the GPU when one is given)
  std::vector<double> norms_;  // |row| in float64, for the error bound
  int64_t n_ = 0, e_ = 0;
  mutable int64_t recomputed_ = 0;
};

/// The reference's F.normalize(x, dim=-1) in float32 -- x / max(|x|, 1e-12)
/// row by row -- with |x| the float32 rounding of the square root of the
/// exact sum of squares (a BLAS or vectorised norm can differ by an ulp, and
/// every similarity with it). [N, E] float32 in, [N, E] float32 out.
at::Tensor normalized_rows(const at::Tensor& x);

/// The exact dot product of two float32 vectors rounded to float32 as above
/// (step 3 alone): fixed order, compensated. Exposed for tests.
float exact_dot(const float* a, const float* b, int64_t e);

}  // namespace tc::sampling
