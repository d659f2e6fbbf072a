#include "tailedcore/sampling/tail_size.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "argmax_first.h"
#include "tailedcore/core/check.h"

namespace tc::sampling {

std::vector<int64_t> predict_num_samples_per_class(const std::vector<float>& class_sizes) {
  std::vector<int64_t> s;
  for (float c : class_sizes) {
    // torch.round (half to even) then .long(); NaN becomes INT64_MIN, then max(., 1) = 1.
    const int64_t r = std::isnan(c) ? 1 : static_cast<int64_t>(std::nearbyint(c));
    s.push_back(std::max<int64_t>(r, 1));
  }
  std::sort(s.begin(), s.end());
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const int64_t left = static_cast<int64_t>(s.size() - pos);
    if (left < s[pos]) {
      TC_ASSERT(!out.empty(), "a class larger than the data set");
      out.back() += left;
      break;
    }
    const int64_t c = s[pos];
    int64_t sum = 0;
    for (int64_t i = 0; i < c; ++i) sum += s[pos + i];
    const float mean = static_cast<float>(sum) / static_cast<float>(c);
    const int64_t m = std::min<int64_t>(static_cast<int64_t>(std::nearbyint(mean)), left);
    out.push_back(m);
    pos += m;
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

int64_t elbow(const std::vector<int64_t>& values) {
  std::vector<int64_t> y(values);
  std::sort(y.begin(), y.end(), std::greater<>());
  const int64_t M = static_cast<int64_t>(y.size());
  TC_CHECK(M > 0, "elbow of an empty list");
  const double dx = static_cast<double>(M - 1), dy = static_cast<double>(y[M - 1] - y[0]);
  if (dx == 0) return y[0];
  const double m = dy / dx, c = static_cast<double>(y[0]);
  const double m_perp = -1.0 / m;  // -inf for a flat line: every distance becomes NaN
  std::vector<float> dist(M);
  for (int64_t i = 0; i < M; ++i) {
    const double x = static_cast<double>(i), yy = static_cast<double>(y[i]);
    const double c_perp = yy - m_perp * x;
    const double xi = (c_perp - c) / (m - m_perp);
    const double yi = m * xi + c;
    dist[i] = static_cast<float>(std::sqrt((xi - x) * (xi - x) + (yi - yy) * (yi - yy)));
  }
  return y[argmax_first(dist)];
}

int64_t predict_max_k(const std::vector<int64_t>& samples_per_class, double percentile) {
  std::vector<int64_t> y(samples_per_class);
  std::sort(y.begin(), y.end(), std::greater<>());
  int64_t max_k = elbow(y);
  if (percentile < 1) {
    int64_t total = 0;
    for (int64_t v : y) total += v;
    const int64_t n =
        static_cast<int64_t>(static_cast<float>(total) * static_cast<float>(percentile));
    const int64_t M = static_cast<int64_t>(y.size());
    int64_t k = 0, cum = 0;
    for (int64_t i = M - 1; i >= 0; --i) {  // ascending cumulative sums
      cum += y[i];
      if (cum > n) break;
      ++k;
    }
    max_k = std::min(max_k, y[std::min(M - k, M - 1)]);
  }
  return max_k;
}

}  // namespace tc::sampling
