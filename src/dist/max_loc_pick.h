// The one max_loc rule shared by every multi-rank Comm (private to tc::dist):
// the largest value wins, equal values go to the lowest index, NaN loses to
// everything (all NaN: NaN with the lowest index).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace tc::dist::detail {

/// One rank's candidate as it travels between ranks (16 bytes, no padding).
struct ValueIndex {
  double value;
  int64_t index;
};
static_assert(sizeof(ValueIndex) == 16, "ValueIndex travels as 16 raw bytes");

inline std::pair<double, int64_t> pick_max_loc(const std::vector<ValueIndex>& all) {
  ValueIndex best = all.front();
  for (const auto& p : all) {
    const bool best_nan = std::isnan(best.value), p_nan = std::isnan(p.value);
    if (p_nan && !best_nan) continue;
    if (best_nan && !p_nan) {
      best = p;
    } else if (p.value > best.value || ((p.value == best.value || p_nan) && p.index < best.index)) {
      best = p;
    }
  }
  return {best.value, best.index};
}

}  // namespace tc::dist::detail
