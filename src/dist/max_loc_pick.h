// The one max_loc rule shared by every multi-rank Comm and the fused packed
// pick (private to tc::dist): the largest value wins, equal values go to the
// lowest index, NaN loses to everything (all NaN: NaN with the lowest index),
// and among equal candidates the first (lowest rank). Host and device code:
// cuda/packed_pick.cu runs the same functions in its kernel.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__CUDACC__)
#define TC_HOST_DEVICE __host__ __device__
#else
#define TC_HOST_DEVICE
#endif

namespace tc::dist::detail {

/// One rank's candidate as it travels between ranks (16 bytes, no padding).
struct ValueIndex {
  double value;
  int64_t index;
};
static_assert(sizeof(ValueIndex) == 16, "ValueIndex travels as 16 raw bytes");

/// Whether (v, i) beats the best so far (best_v, best_i) under the rule above.
TC_HOST_DEVICE inline bool beats(double v, int64_t i, double best_v, int64_t best_i) {
  const bool v_nan = v != v, best_nan = best_v != best_v;
  if (v_nan != best_nan) return best_nan;  // a number beats NaN
  return v > best_v || ((v == best_v || v_nan) && i < best_i);
}

inline std::pair<double, int64_t> pick_max_loc(const std::vector<ValueIndex>& all) {
  ValueIndex best = all.front();
  for (const auto& p : all)
    if (beats(p.value, p.index, best.value, best.index)) best = p;
  return {best.value, best.index};
}

/// The winner among n packed candidates (exchange.h's pack_candidate: value
/// in words 0-1, index in words 2-3), `words` int32 apart: its position.
TC_HOST_DEVICE inline int winner_of_packed(const int32_t* all, int n, int64_t words) {
  int winner = 0;
  double best_v;
  int64_t best_i;
  std::memcpy(&best_v, all, sizeof best_v);
  std::memcpy(&best_i, all + 2, sizeof best_i);
  for (int k = 1; k < n; ++k) {
    double v;
    int64_t i;
    std::memcpy(&v, all + k * words, sizeof v);
    std::memcpy(&i, all + k * words + 2, sizeof i);
    if (beats(v, i, best_v, best_i)) winner = k, best_v = v, best_i = i;
  }
  return winner;
}

/// The fused pick on the GPU (cuda/packed_pick.cu): winner_of_packed over the
/// device words `all` [n * words], the winner's words copied to `out` [words];
/// one launch on LibTorch's default stream, no host wait.
void pick_packed_on_device(const int32_t* all, int n, int64_t words, int32_t* out);

}  // namespace tc::dist::detail
