#include "tailedcore/sampling/class_size.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/similarity.h"

namespace tc::sampling {
namespace {

bool is_scalar_threshold(const std::string& t) { return t == "symmin" || t == "symavg" || t == "indep"; }

void check_options(const ClassSizeOptions& o) {
  static const std::vector<std::string> kTh = {"symmin", "symavg", "indep", "half_min", "trim_min",
                                               "truncate_min", "max_step", "double_max_step"};
  static const std::vector<std::string> kVote = {"mean", "mode", "none", "nearest"};
  TC_CHECK(std::count(kTh.begin(), kTh.end(), o.th_type), "threshold type '", o.th_type,
           "' is unknown: expected symmin, symavg, indep, half_min, trim_min, truncate_min, "
           "max_step or double_max_step");
  TC_CHECK(std::count(kVote.begin(), kVote.end(), o.vote), "vote '", o.vote,
           "' is unknown: expected mean, mode, none or nearest");
  TC_CHECK(!(o.vote == "none" && is_scalar_threshold(o.th_type)), "vote 'none' exists only with "
           "adaptive thresholds (the reference's adaptive_class_size), not with ", o.th_type);
  TC_CHECK(o.block_rows >= 0, "block_rows = ", o.block_rows, ": expected >= 1, or 0 for the default");
}

// The first index of the largest value (numpy/torch argmax), NaN winning as in numpy.
template <class T>
int64_t argmax_first(const std::vector<T>& v) {
  int64_t best = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    if (std::isnan(static_cast<double>(v[i]))) return i;
    if (v[i] > v[best]) best = i;
  }
  return best;
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

int64_t similarity_block_rows(const ClassSizeOptions& opts, int64_t n, int ranks) {
  constexpr int64_t kMaxBlockRows = 4096;
  if (opts.block_rows > 0) return std::min(opts.block_rows, n);
  const int64_t per_rank = (n + ranks - 1) / std::max(ranks, 1);
  return std::max<int64_t>(1, std::min(kMaxBlockRows, per_rank));
}

ClassSizeOptions class_size_options_from_config(const std::string& tail_th_type) {
  ClassSizeOptions o;
  if (tail_th_type == "ada_trim_min-mode") {
    o.th_type = "trim_min";
    o.vote = "mode";
  } else if (tail_th_type == "symmin") {
    o.th_type = "symmin";
    o.vote = "mean";
  } else if (tail_th_type == "double_max_step") {
    o.th_type = "double_max_step";
    o.vote = "none";
  } else {
    TC_FAIL("tail_th_type '", tail_th_type,
            "' is unknown: expected ada_trim_min-mode, symmin or double_max_step");
  }
  return o;
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

float row_threshold(const float* row, int64_t n, const std::string& th_type, bool* degenerate) {
  if (th_type == "half_min") return half_angle(*std::min_element(row, row + n));
  if (th_type == "trim_min") return trim_threshold_counting(row, n, 0.85, degenerate);
  if (th_type == "truncate_min") return trim_threshold_counting(row, n, 0.5, degenerate);
  const auto q = quantized_sorted(row, n);
  if (th_type == "double_max_step") return double_max_step_threshold(q);
  if (th_type == "max_step") {
    if (q.size() < 2) return q.front();
    std::vector<float> d(q.size() - 1);
    for (size_t i = 0; i + 1 < q.size(); ++i) d[i] = q[i + 1] - q[i];
    const int64_t a = argmax_first(d);
    return (q[a + 1] + q[a]) / 2.0f;
  }
  TC_FAIL("threshold type '", th_type, "' has no per-row rule");
}

float vote_mode(const std::vector<int64_t>& column) {
  std::map<int64_t, int64_t> freq;
  for (int64_t v : column)
    if (v != 0) ++freq[v];
  if (freq.empty()) return NAN;
  int64_t best = 0, best_count = 0;
  for (const auto& [v, c] : freq)  // ascending values: ties keep the smallest
    if (c > best_count) best = v, best_count = c;
  return static_cast<float>(best);
}

float vote_mean(const std::vector<int64_t>& column) {
  int64_t sum = 0, nonzero = 0;
  for (int64_t v : column) {
    sum += v;
    nonzero += v != 0;
  }
  return static_cast<float>(sum) / static_cast<float>(nonzero);  // 0/0 = NaN as torch
}

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
    const int64_t n = static_cast<int64_t>(static_cast<float>(total) * static_cast<float>(percentile));
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

TailSelection select_tail(const at::Tensor& embeddings, const ClassSizeOptions& opts,
                          dist::Comm& comm) {
  check_options(opts);
  TC_CHECK(embeddings.dim() == 2 && embeddings.size(0) >= 1, "class sizes need [N, E] embeddings: got ",
           embeddings.sizes());
  const int64_t N = embeddings.size(0);
  const auto xn = normalized_rows(embeddings);  // F.normalize, with a machine-independent norm
  // Whole blocks of rows per rank. The entries do not depend on the blocks
  // (ExactSimilarity), so blocks only set memory and the work per rank.
  const ExactSimilarity similarity(xn);
  const int64_t B = similarity_block_rows(opts, N, comm.size());
  const int64_t blocks = (N + B - 1) / B;
  const auto my_blocks = dist::shard_range(blocks, comm.rank(), comm.size());
  const int64_t row_begin = std::min(N, my_blocks.begin * B), row_end = std::min(N, my_blocks.end * B);
  const int64_t my_rows = row_end - row_begin;
  const auto for_each_block = [&](const std::function<void(int64_t, int64_t, const torch::Tensor&)>& fn) {
    for (int64_t s = row_begin; s < row_end; s += B) {
      const int64_t c = std::min(B, N - s);
      fn(s, c, similarity.rows(s, c));
    }
  };

  // Scalar thresholds (symmin, symavg) need every row's minimum first: one
  // extra pass. Adaptive thresholds are per row, found in the main pass.
  std::vector<float> th_local(my_rows);
  if (is_scalar_threshold(opts.th_type)) {
    float th = static_cast<float>(std::cos((M_PI / 2) / 2));  // indep
    if (opts.th_type != "indep") {
      auto mins = torch::empty({my_rows}, torch::kFloat32);
      for_each_block([&](int64_t s, int64_t c, const torch::Tensor& rows) {
        mins.narrow(0, s - row_begin, c).copy_(std::get<0>(rows.min(1)));
      });
      const auto all_mins = comm.allgatherv(mins);
      const auto minimum = opts.th_type == "symmin" ? all_mins.min() : all_mins.mean();
      th = torch::cos(torch::acos(minimum) / 2).item<float>();
    }
    std::fill(th_local.begin(), th_local.end(), th);
  }
  // One pass over the similarity rows: each row's threshold th_i and count
  // r_i depend on that row alone, and so does its vote (r_i into every column
  // j with S_ij >= th_i), so the votes are tallied right away, in integers
  // (the sum over ranks is exact), and the product is computed once.
  //  - mean/nearest: per column, the sum of the r_i and their number;
  //  - mode: per column, how many rows of each distinct r value include it.
  std::vector<int64_t> r_local(my_rows);
  std::vector<int64_t> vote_sum, vote_count;
  std::map<int64_t, std::vector<int32_t>> mode_tally;  // r value -> per-column count
  const bool tallies_mean = opts.vote == "mean" || opts.vote == "nearest";
  if (tallies_mean) vote_sum.assign(N, 0), vote_count.assign(N, 0);
  std::atomic<int64_t> degenerate_rows{0};
  for_each_block([&](int64_t s, int64_t c, const torch::Tensor& rows) {
    const float* p = rows.data_ptr<float>();
    float* th = th_local.data() + (s - row_begin);
    int64_t* r = r_local.data() + (s - row_begin);
    at::parallel_for(0, c, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const float* row = p + i * N;
        if (!is_scalar_threshold(opts.th_type)) {
          bool degenerate = false;
          th[i] = row_threshold(row, N, opts.th_type, &degenerate);
          degenerate_rows += degenerate;
        }
        int64_t count = 0;
        for (int64_t j = 0; j < N; ++j) count += row[j] >= th[i];
        r[i] = count;
      }
    });
    if (opts.vote == "none") return;
    std::vector<int32_t*> tally_of_row(c, nullptr);
    if (opts.vote == "mode")
      for (int64_t i = 0; i < c; ++i) {
        auto& t = mode_tally[r[i]];
        if (t.empty()) t.assign(N, 0);
        tally_of_row[i] = t.data();
      }
    // Columns split across threads: each column's tallies have one writer.
    at::parallel_for(0, N, 256, [&](int64_t j0, int64_t j1) {
      for (int64_t i = 0; i < c; ++i) {
        const float* row = p + i * N;
        const float t = th[i];
        if (tallies_mean) {
          for (int64_t j = j0; j < j1; ++j) {
            const int64_t in = row[j] >= t;
            vote_sum[j] += in * r[i];
            vote_count[j] += in;
          }
        } else {
          int32_t* tally = tally_of_row[i];
          for (int64_t j = j0; j < j1; ++j) tally[j] += row[j] >= t;
        }
      }
    });
  });
  const auto th_all =
      comm.allgatherv(torch::from_blob(th_local.data(), {my_rows}, torch::kFloat32).clone());
  const auto r_all =
      comm.allgatherv(torch::from_blob(r_local.data(), {my_rows}, torch::kInt64).clone());
  const int64_t degenerate =
      comm.allreduce(torch::tensor({degenerate_rows.load()}), dist::ReduceOp::kSum).item<int64_t>();

  torch::Tensor class_sizes;
  if (opts.vote == "none") {
    // The reference's row-wise mean of the count map: r_i^2 / N.
    class_sizes = (r_all * r_all).to(torch::kFloat32) / static_cast<float>(N);
  } else if (tallies_mean) {
    const auto sum = comm.allreduce(torch::tensor(vote_sum, torch::kInt64), dist::ReduceOp::kSum);
    const auto cnt = comm.allreduce(torch::tensor(vote_count, torch::kInt64), dist::ReduceOp::kSum);
    class_sizes = sum.to(torch::kFloat32) / cnt.to(torch::kFloat32);  // 0/0 = NaN, as torch
    if (opts.vote == "nearest") {
      // The reference takes idx_j = argmin_i |count_map[i, j] - mean_j| and then
      // count_map[j, idx_j] (row j, not column j): kept as is.
      const auto mean = class_sizes;
      auto best = torch::full({N}, std::numeric_limits<float>::infinity());
      auto best_idx = torch::full({N}, std::numeric_limits<int64_t>::max(), torch::kInt64);
      for_each_block([&](int64_t s, int64_t c, const torch::Tensor& rows) {
        const auto cm = (rows >= th_all.narrow(0, s, c).view({c, 1})).to(torch::kFloat32) *
                        r_all.narrow(0, s, c).view({c, 1}).to(torch::kFloat32);
        auto [d, i] = (cm - mean.view({1, N})).abs().min(0);  // first minimum within the block
        const auto better = d < best;
        best = torch::where(better, d, best);
        best_idx = torch::where(better, i + s, best_idx);
      });
      const auto global_best = comm.allreduce(best, dist::ReduceOp::kMin);
      best_idx = torch::where(best == global_best, best_idx, torch::full_like(best_idx, INT64_MAX));
      best_idx = comm.allreduce(best_idx, dist::ReduceOp::kMin);  // lowest index among the minima
      // A column nobody votes for has a NaN mean: every difference is NaN and
      // torch's argmin returns the first NaN, row 0.
      best_idx = torch::where(best_idx == INT64_MAX, torch::zeros_like(best_idx), best_idx);
      auto local = torch::zeros({N}, torch::kFloat32);
      for_each_block([&](int64_t s, int64_t c, const torch::Tensor& rows) {
        for (int64_t j = s; j < s + c; ++j) {
          const int64_t idx = best_idx[j].item<int64_t>();
          const bool in = rows[j - s][idx].item<float>() >= th_all[j].item<float>();
          local[j] = in ? static_cast<float>(r_all[j].item<int64_t>()) : 0.f;
        }
      });
      class_sizes = comm.allreduce(local, dist::ReduceOp::kSum);
    }
  } else {  // mode
    // Every rank's tallies laid out over the same ascending list of all r values.
    const auto values = std::get<0>(at::_unique(r_all, /*sorted=*/true));
    const int64_t V = values.size(0);
    auto tally = torch::zeros({V, N}, torch::kInt64);
    const int64_t* v = values.data_ptr<int64_t>();
    for (const auto& [value, counts] : mode_tally) {
      const int64_t row = std::lower_bound(v, v + V, value) - v;
      tally[row].copy_(torch::from_blob(const_cast<int32_t*>(counts.data()), {N}, torch::kInt32));
    }
    tally = comm.allreduce(tally, dist::ReduceOp::kSum);
    // argmax over values returns the first maximum = the smallest value on ties (scipy's mode).
    const auto [top, arg] = tally.max(0);
    class_sizes = torch::where(top > 0, values.index_select(0, arg).to(torch::kFloat32),
                               torch::full({N}, NAN));
  }

  TailSelection out;
  out.class_sizes = class_sizes.contiguous();
  out.degenerate_rows = degenerate;
  if (degenerate > 0)
    core::log_warn("class sizes: ", degenerate, " of ", N, " similarity rows have no value above ",
                   "their half-angle threshold (the embeddings do not separate; the reference would ",
                   "raise IndexError): those rows use their largest similarity as threshold");
  std::vector<float> cs(out.class_sizes.data_ptr<float>(), out.class_sizes.data_ptr<float>() + N);
  out.samples_per_class = predict_num_samples_per_class(cs);
  out.max_k = predict_max_k(out.samples_per_class, opts.percentile);
  std::vector<int64_t> tail;
  for (int64_t j = 0; j < N; ++j)
    if (cs[j] <= static_cast<float>(out.max_k)) tail.push_back(j);  // NaN is never tail
  out.tail_indices = tail.empty() ? torch::empty({0}, torch::kInt64) : torch::tensor(tail, torch::kInt64);
  return out;
}

}  // namespace tc::sampling
