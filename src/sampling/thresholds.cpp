#include "tailedcore/sampling/thresholds.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "argmax_first.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"

namespace tc::sampling {
namespace {

const core::NameTable<Threshold>& thresholds() {
  static const core::NameTable<Threshold> table({{Threshold::kSymmin, "symmin"},
                                                 {Threshold::kSymavg, "symavg"},
                                                 {Threshold::kIndep, "indep"},
                                                 {Threshold::kHalfMin, "half_min"},
                                                 {Threshold::kTrimMin, "trim_min"},
                                                 {Threshold::kTruncateMin, "truncate_min"},
                                                 {Threshold::kMaxStep, "max_step"},
                                                 {Threshold::kDoubleMaxStep, "double_max_step"}});
  return table;
}

float half_angle(float m) { return std::cos(std::acos(m) / 2.0f); }

// trim_min / truncate_min (SPEC 4.3) on the raw row without sorting it: the
// smallest of the top `keep` share of the quantised values strictly above the
// half-angle threshold (Python's H[-t], with H[-0] = H[0]). The quantised values are
// integer levels trunc(n * v) in [-n - 1, n + 1], so a histogram of levels
// replaces the reference's sort (O(n) instead of O(n log n) per row). Levels
// map to values float(level) / n exactly as quantized_sorted does, so the
// threshold is the same float.
float trim_threshold_counting(const float* row, int64_t n, double keep, bool* degenerate) {
  const float fn = static_cast<float>(n);
  const int64_t offset = n + 1, levels = 2 * n + 3;
  thread_local std::vector<int64_t> counts;
  counts.assign(levels, 0);
  int64_t lo = levels, hi = -1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t level = static_cast<int64_t>(fn * row[i]) + offset;  // truncation toward 0
    TC_ASSERT(level >= 0 && level < levels, "similarity ", row[i], " outside [-1, 1]");
    ++counts[level];
    lo = std::min(lo, level);
    hi = std::max(hi, level);
  }
  const auto value = [&](int64_t level) { return static_cast<float>(level - offset) / fn; };
  const float th_half = half_angle(value(lo));
  int64_t first = lo;
  while (first <= hi && !(value(first) > th_half)) ++first;
  int64_t L = 0;
  for (int64_t l = first; l <= hi; ++l) L += counts[l];
  if (L == 0) {
    // Every value quantises to the minimum's level: the reference raises IndexError.
    if (degenerate) *degenerate = true;
    return value(hi);
  }
  const int64_t t = static_cast<int64_t>(static_cast<double>(L) * keep);
  const int64_t k = t >= 1 ? L - t : 0;  // ascending position within H
  int64_t seen = 0;
  for (int64_t l = first; l <= hi; ++l) {
    seen += counts[l];
    if (seen > k) return value(l);
  }
  TC_ASSERT(false, "position ", k, " beyond ", L, " values");
  return value(hi);
}

// The midpoint of the largest step between consecutive quantised values.
float max_step_threshold(const std::vector<float>& q) {
  if (q.size() < 2) return q.front();
  std::vector<float> d(q.size() - 1);
  for (size_t i = 0; i + 1 < q.size(); ++i) d[i] = q[i + 1] - q[i];
  const int64_t a = argmax_first(d);
  return (q[a + 1] + q[a]) / 2.0f;
}

// The midpoint of the step that most exceeds every later step.
float double_max_step_threshold(const std::vector<float>& q) {
  if (q.size() < 2) return q.front();
  std::vector<float> d(q.size() - 1), nxt(d.size()), crit(d.size());
  for (size_t i = 0; i + 1 < q.size(); ++i) d[i] = q[i + 1] - q[i];
  // nxt[t] = max(d[t+1:]) for t < last, nxt[last] = d[last].
  nxt.back() = d.back();
  float running = -std::numeric_limits<float>::infinity();
  for (int64_t t = static_cast<int64_t>(d.size()) - 2; t >= 0; --t) {
    running = std::max(running, d[t + 1]);
    nxt[t] = running;
  }
  for (size_t t = 0; t < d.size(); ++t) crit[t] = d[t] / std::max(nxt[t], 1e-7f);
  const int64_t a = argmax_first(crit);
  return (q[a] + q[a + 1]) / 2.0f;
}

}  // namespace

Threshold parse_threshold(const std::string& name) {
  return thresholds().parse(name, "threshold type");
}

const char* threshold_name(Threshold t) { return thresholds().name(t).c_str(); }

bool is_scalar(Threshold t) {
  return t == Threshold::kSymmin || t == Threshold::kSymavg || t == Threshold::kIndep;
}

float scalar_threshold(Threshold t, const at::Tensor& row_minima, int64_t factor) {
  TC_CHECK(is_scalar(t), "threshold type '", threshold_name(t), "' has no scalar rule: expected ",
           "symmin, symavg or indep");
  if (t == Threshold::kIndep) return static_cast<float>(std::cos((M_PI / 2) / (2 * factor)));
  const auto minimum = t == Threshold::kSymmin ? row_minima.min() : row_minima.mean();
  return torch::cos(torch::acos(minimum) / static_cast<double>(2 * factor)).item<float>();
}

std::vector<float> quantized_sorted(const float* row, int64_t n) {
  const float fn = static_cast<float>(n);
  std::vector<int64_t> q(n);
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int64_t>(fn * row[i]);  // truncation toward 0
  std::sort(q.begin(), q.end());
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(q[i]) / fn;
  return out;
}

float row_threshold(const float* row, int64_t n, Threshold t, bool* degenerate) {
  switch (t) {
    case Threshold::kHalfMin:
      return half_angle(*std::min_element(row, row + n));
    case Threshold::kTrimMin:
      return trim_threshold_counting(row, n, 0.85, degenerate);
    case Threshold::kTruncateMin:
      return trim_threshold_counting(row, n, 0.5, degenerate);
    case Threshold::kMaxStep:
      return max_step_threshold(quantized_sorted(row, n));
    case Threshold::kDoubleMaxStep:
      return double_max_step_threshold(quantized_sorted(row, n));
    case Threshold::kSymmin:
    case Threshold::kSymavg:
    case Threshold::kIndep:
      break;
  }
  TC_FAIL("threshold type '", threshold_name(t),
          "' has no per-row rule: expected half_min, trim_min, ",
          "truncate_min, max_step or double_max_step");
}

}  // namespace tc::sampling
