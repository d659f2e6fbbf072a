#include "tailedcore/sampling/similarity.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "tailedcore/core/check.h"

namespace tc::sampling {
namespace {

// Knuth's TwoSum: s + e == a + b exactly. Additions only, so neither
// reassociation-free compilers nor FMA contraction can change it.
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// hi + lo (|lo| <= half an ulp of hi) rounded to the nearest float32, ties to
// even: (float)hi is right unless hi sits exactly on a float32 tie, where lo
// says on which side the value lies.
float round_to_float(double hi, double lo) {
  const float f = static_cast<float>(hi);
  if (lo == 0 || !std::isfinite(hi)) return f;
  const double d = hi - static_cast<double>(f);  // exact: f and hi are within an ulp of float
  if (d == 0) {
    // hi is a float; the value is hi + lo, within half a double ulp of it: no float32 tie in
    // between.
    return f;
  }
  const float other = std::nextafter(
      f, d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
  const double tie = (static_cast<double>(f) + static_cast<double>(other)) / 2;  // exact in double
  if (hi != tie) return f;
  return (lo > 0) == (d > 0) ? other : f;  // beyond the tie toward `other`, or short of it
}

// sum_k a_k b_k as hi + lo: the products are exact in float64 (24 + 24
// bits), the sum compensated in a fixed order.
void compensated_dot(const float* a, const float* b, int64_t e, double& hi, double& lo) {
  double s = 0, c = 0;
  for (int64_t k = 0; k < e; ++k) {
    const double p = static_cast<double>(a[k]) * static_cast<double>(b[k]);
    double t, err;
    two_sum(s, p, t, err);
    s = t;
    c += err;
  }
  two_sum(s, c, hi, lo);
}

}  // namespace

float exact_dot(const float* a, const float* b, int64_t e) {
  double hi, lo;
  compensated_dot(a, b, e, hi, lo);
  return round_to_float(hi, lo);
}

at::Tensor normalized_rows(const at::Tensor& x) {
  TC_CHECK(x.dim() == 2, "normalising [N, E] rows: got ", x.sizes());
  const auto x32 = x.to(torch::kFloat32).contiguous();
  const int64_t n = x32.size(0), e = x32.size(1);
  auto norms = torch::empty({n, 1}, torch::kFloat32);
  const float* p = x32.data_ptr<float>();
  float* out = norms.data_ptr<float>();
  at::parallel_for(0, n, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      double hi, lo;
      compensated_dot(p + i * e, p + i * e, e, hi, lo);
      out[i] = std::max(static_cast<float>(std::sqrt(hi + lo)), 1e-12f);  // clamp_min(eps)
    }
  });
  return x32 / norms;
}

ExactSimilarity::ExactSimilarity(const at::Tensor& xn, int cuda_device) {
  TC_CHECK(xn.dim() == 2, "similarity of [N, E] rows: got ", xn.sizes());
  x32_ = xn.to(torch::kFloat32).contiguous();
  x64_ = x32_.to(torch::kFloat64);
  n_ = x32_.size(0);
  e_ = x32_.size(1);
  const auto norms = x64_.norm(2, 1).contiguous();
  norms_.assign(norms.data_ptr<double>(), norms.data_ptr<double>() + n_);
  // The products only need to be within the bound below: any device's float64 GEMM is.
  if (cuda_device >= 0)
    x64_ = x64_.to(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(cuda_device)));
}

at::Tensor ExactSimilarity::rows(int64_t begin, int64_t count) const {
  TC_ASSERT(begin >= 0 && count >= 0 && begin + count <= n_, "rows ", begin, " + ", count, " of ",
            n_);
  auto out = torch::empty({count, n_}, torch::kFloat32);
  // |s64 - exact| <= gamma_E * sum_k |a_k b_k| <= gamma_E |a| |b| for any
  // summation order; twice that covers the rounding of s64 -/+ bound and of the norms.
  const double u = std::ldexp(1.0, -53);
  const double gamma = static_cast<double>(e_) * u / (1 - static_cast<double>(e_) * u);
  const double scale = 2 * gamma;
  // float64 products in chunks of rows (at most 32 MiB): their bits do not
  // matter, only the bound does, so the chunking is free.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / std::max<int64_t>(n_, 1));
  const float* x32 = x32_.data_ptr<float>();
  float* o = out.data_ptr<float>();
  std::atomic<int64_t> recomputed{0};
  for (int64_t r0 = 0; r0 < count; r0 += chunk) {
    const int64_t c = std::min(chunk, count - r0);
    const auto s64 = x64_.narrow(0, begin + r0, c).mm(x64_.t()).to(torch::kCPU).contiguous();
    const double* s = s64.data_ptr<double>();
    at::parallel_for(0, c, 1, [&](int64_t i0, int64_t i1) {
      int64_t mine = 0;
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t gi = begin + r0 + i;
        const double ni = norms_[gi] * scale;
        const double* srow = s + i * n_;
        float* orow = o + (r0 + i) * n_;
        for (int64_t j = 0; j < n_; ++j) {
          const double v = srow[j], bound = ni * norms_[j];
          const float lo = static_cast<float>(v - bound), hi = static_cast<float>(v + bound);
          if (lo == hi) {
            orow[j] = lo;
          } else {
            orow[j] = exact_dot(x32 + gi * e_, x32 + j * e_, e_);
            ++mine;
          }
        }
      }
      recomputed += mine;
    });
  }
  recomputed_ += recomputed.load();
  return out;
}

}  // namespace tc::sampling
