// ExactSimilarity against an independent exact computation: integer
// arithmetic on the floats' mantissas (no floating-point sum at all), rounded
// to float32 by hand. Equal everywhere means the rows depend on no BLAS
// kernel, thread count or block shape.
#include "tailedcore/sampling/similarity.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>

using tc::sampling::exact_dot;
using tc::sampling::ExactSimilarity;

namespace {

// The exact dot product as a fixed-point integer in units of 2^-kScale:
// every |value| >= 2^-30 here, so each float is a multiple of 2^-53 and each
// product of 2^-106; sums stay below 2^12, within 118 bits of an __int128.
constexpr int kScale = 106;

__int128 exact_fixed(const float* a, const float* b, int64_t n) {
  __int128 sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    int ea, eb;
    const double ma = std::frexp(static_cast<double>(a[k]), &ea),
                 mb = std::frexp(static_cast<double>(b[k]), &eb);
    const auto ia = static_cast<int64_t>(std::ldexp(ma, 24)),
               ib = static_cast<int64_t>(std::ldexp(mb, 24));
    const int shift = ea + eb - 48 + kScale;  // a * b = ia * ib * 2^(ea + eb - 48)
    EXPECT_GE(shift, 0) << "value too small for the fixed-point check";
    sum += static_cast<__int128>(ia) * ib * (static_cast<__int128>(1) << shift);
  }
  return sum;
}

// Nearest float32 to v * 2^-kScale, ties to even, by integer arithmetic.
float round_fixed(__int128 v) {
  if (v == 0) return 0.f;
  const bool negative = v < 0;
  unsigned __int128 m =
      negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  int top = 127;
  while (!((m >> top) & 1)) --top;
  const int drop = top - 23;  // keep 24 significant bits
  unsigned __int128 kept = m, rest = 0, half = 0;
  if (drop > 0) {
    kept = m >> drop;
    rest = m & ((static_cast<unsigned __int128>(1) << drop) - 1);
    half = static_cast<unsigned __int128>(1) << (drop - 1);
    if (rest > half || (rest == half && (kept & 1))) ++kept;
  }
  const int kept_shift = drop > 0 ? drop : 0;
  const float f = std::ldexp(static_cast<float>(static_cast<uint64_t>(kept)), kept_shift - kScale);
  return negative ? -f : f;
}

float bits_as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Rows like normalised post-ReLU embeddings (similarities near 0.5-1), bounded away from 0.
at::Tensor embedding_rows(int64_t n, int64_t e, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::rand({n, e}) * torch::rand({n, 1}) + 0.01 + torch::rand({1, e}).repeat({n, 1});
  return (x / x.norm(2, 1, true)).contiguous();
}

}  // namespace

TEST(ExactSimilarity, EveryEntryIsTheExactDotProductRoundedToFloat32) {
  for (const auto& [n, e] :
       std::vector<std::pair<int64_t, int64_t>>{{97, 2048}, {200, 64}, {31, 7}}) {
    const auto xn = embedding_rows(n, e, 7 + n);
    const ExactSimilarity sim(xn);
    const auto got = sim.rows(0, n);
    const float* x = xn.data_ptr<float>();
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        wrong += got[i][j].item<float>() != round_fixed(exact_fixed(x + i * e, x + j * e, e));
    EXPECT_EQ(wrong, 0) << n << " x " << e;
    // float32 BLAS is not exact-rounded: the check above is not vacuous.
    const auto blas = xn.mm(xn.t());
    std::printf(
        "%lld x %lld: float32 BLAS differs from the exact rounding in %lld of %lld entries; "
        "%lld entries recomputed\n",
        static_cast<long long>(n), static_cast<long long>(e),
        static_cast<long long>((blas != got).sum().item<int64_t>()), static_cast<long long>(n * n),
        static_cast<long long>(sim.recomputed()));
  }
}

TEST(ExactSimilarity, RowsDoNotDependOnBlocksOrThreads) {
  const auto xn = embedding_rows(300, 512, 3);
  const ExactSimilarity sim(xn);
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  const auto one_thread = sim.rows(0, 300);
  at::set_num_threads(2);
  const auto two_threads = sim.rows(0, 300);
  at::set_num_threads(saved);
  EXPECT_TRUE(torch::equal(one_thread, two_threads));
  const auto blocks = torch::cat({sim.rows(0, 7), sim.rows(7, 150), sim.rows(157, 143)});
  EXPECT_TRUE(torch::equal(one_thread, blocks));
}

TEST(ExactSimilarity, TiesRoundToEvenAndNearTiesToTheirSide) {
  const float tiny = std::ldexp(1.f, -24);       // half an ulp of 1
  const float next = bits_as_float(0x3f800001);  // 1 + 2^-23
  struct Case {
    std::vector<float> a, b;
    float want;
  };
  const std::vector<Case> cases = {
      {{1.f, tiny}, {1.f, 1.f}, 1.f},                                  // 1 + 2^-24: a tie, to even
      {{1.f, tiny, std::ldexp(1.f, -70)}, {1.f, 1.f, 1.f}, next},      // just above the tie
      {{1.f, tiny, -std::ldexp(1.f, -70)}, {1.f, 1.f, 1.f}, 1.f},      // just below it
      {{next, tiny}, {1.f, 1.f}, bits_as_float(0x3f800002)},           // odd + tie: up to even
      {{-1.f, -tiny, -std::ldexp(1.f, -90)}, {1.f, 1.f, 1.f}, -next},  // negative side
  };
  for (const auto& c : cases) {
    EXPECT_EQ(exact_dot(c.a.data(), c.b.data(), static_cast<int64_t>(c.a.size())), c.want);
    // The same through the rows: a = row 0, b = row 1.
    auto x = torch::stack({torch::tensor(c.a), torch::tensor(c.b)});
    EXPECT_EQ(ExactSimilarity(x).rows(0, 1)[0][1].item<float>(), c.want);
  }
}

TEST(ExactSimilarity, NonFiniteAndZeroRows) {
  auto x = torch::ones({3, 4});
  x[1].zero_();
  x[2][0] = NAN;
  const auto s = ExactSimilarity(x).rows(0, 3);
  EXPECT_EQ(s[0][1].item<float>(), 0.f);
  EXPECT_EQ(s[0][0].item<float>(), 4.f);
  EXPECT_TRUE(std::isnan(s[0][2].item<float>()));
}

TEST(ExactSimilarity, NormalisedRowsAreFNormalizeWithTheRoundedExactNorm) {
  const auto x = embedding_rows(50, 300, 11) * 3.f;
  auto with_zero = x.clone();
  with_zero[4].zero_();
  const auto got = tc::sampling::normalized_rows(with_zero);
  const auto torch_norm = with_zero / with_zero.norm(2, 1, true).clamp_min(1e-12);
  // At most an ulp from torch's own norm (which may itself be an ulp off).
  EXPECT_LE((got - torch_norm).abs().max().item<float>(), 2 * std::ldexp(1.f, -24));
  EXPECT_EQ(got[4].abs().sum().item<float>(), 0.f);
  // Row 0 by hand: the float32 of sqrt(exact sum of squares), then IEEE division.
  const float* r = with_zero.data_ptr<float>();
  double sum = 0;
  for (int k = 0; k < 300; ++k)
    sum += static_cast<double>(r[k]) * r[k];  // 300 terms: far from a tie here
  const float norm = static_cast<float>(std::sqrt(sum));
  for (int k = 0; k < 300; ++k) EXPECT_EQ(got[0][k].item<float>(), r[k] / norm) << k;
}
