// Internal to sampling: numpy/torch's argmax, shared by the threshold rules
// and the elbow of the tail-size estimate.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace tc::sampling {

/// The first index of the largest value, a NaN winning as in numpy.
template <class T>
int64_t argmax_first(const std::vector<T>& v) {
  int64_t best = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    if (std::isnan(static_cast<double>(v[i]))) return i;
    if (v[i] > v[best]) best = i;
  }
  return best;
}

}  // namespace tc::sampling
