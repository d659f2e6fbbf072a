#include "tailedcore/sampling/quantile.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "tailedcore/core/check.h"

namespace tc::sampling {
namespace {

// The below-th and above-th smallest of n values (below <= above <= below + 1),
// or NaN twice when any value is NaN.
template <class T>
std::pair<double, double> order_statistics(const T* p, int64_t n, int64_t below, int64_t above) {
  std::vector<T> v(p, p + n);
  if (std::any_of(v.begin(), v.end(), [](T x) { return std::isnan(x); })) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
  }
  std::nth_element(v.begin(), v.begin() + below, v.end());
  const T lo = v[below];
  // After the partition the next order statistic is the least of what follows.
  const T hi = above == below ? lo : *std::min_element(v.begin() + below + 1, v.end());
  return {lo, hi};
}

}  // namespace

double linear_quantile(const at::Tensor& values, double q) {
  const auto dtype = values.scalar_type();
  TC_CHECK(dtype == torch::kFloat32 || dtype == torch::kFloat64, "quantile of ", dtype,
           " values: expected float32 or float64");
  TC_CHECK(values.numel() > 0, "quantile of no values: expected at least one");
  TC_CHECK(q >= 0 && q <= 1, "quantile q = ", q, ": expected 0 <= q <= 1");
  const int64_t n = values.numel(), last = n - 1;
  const bool f32 = dtype == torch::kFloat32;
  // q as torch holds it (a scalar of the values' dtype), times the last index:
  // exact in float64 here, so rounding it to float32 gives torch's float32 product.
  const double q_t = f32 ? static_cast<double>(static_cast<float>(q)) : q;
  double rank = q_t * static_cast<double>(last);
  if (f32 && last <= (int64_t{1} << 24)) rank = static_cast<float>(rank);
  const auto below = static_cast<int64_t>(std::floor(rank));
  const auto above = static_cast<int64_t>(std::ceil(rank));
  const auto host = values.detach().to(torch::kCPU).contiguous();
  const auto [lo, hi] = f32 ? order_statistics(host.data_ptr<float>(), n, below, above)
                            : order_statistics(host.data_ptr<double>(), n, below, above);
  if (std::isnan(lo)) return lo;
  // torch's own lerp on one element, as torch.quantile ends: the same rounding.
  const auto opts = torch::TensorOptions().dtype(dtype);
  return torch::lerp(torch::full({1}, lo, opts), torch::full({1}, hi, opts),
                     torch::full({1}, rank - static_cast<double>(below), opts))
      .item<double>();
}

}  // namespace tc::sampling
