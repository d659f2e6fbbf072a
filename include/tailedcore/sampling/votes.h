// The votes of class-size estimation (SPEC 4.4). Row i of the similarity, with
// threshold th_i, counts r_i = #{j : S_ij >= th_i} and votes r_i for every
// column it includes (the reference's count_map[i, j] = r_i [S_ij >= th_i]).
// A column's class size is, by vote:
//   mean     the mean of its non-zero votes
//   mode     its most frequent non-zero vote (the smallest on ties, as scipy)
//   nearest  count_map[j, argmin_i |count_map[i, j] - mean_j|]: row j, not
//            column j, as the reference indexes it (kept)
//   none     row j's own mean of the count map, r_j^2 / N (adaptive thresholds only)
// A column nobody votes for has no size (NaN).
//
// Contract (distributed): each rank tallies the rows it owns; class_sizes()
// is collective over comm and gives every rank the same [N] result for any
// split of the rows (the tallies are integers, so their sum is exact).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

enum class Vote { kMean, kMode, kNone, kNearest };

/// "mode" -> kMode; an unknown name fails listing the known ones.
Vote parse_vote(const std::string& name);
const char* vote_name(Vote v);

/// Visits this rank's similarity rows block by block, in row order:
/// visit(fn) calls fn(first_row, block) with block [rows, N] float32.
using RowBlockVisitor =
    std::function<void(const std::function<void(int64_t first_row, const at::Tensor& block)>&)>;

/// One rank's votes, tallied per column as its similarity rows go by, so the
/// similarity is computed once and never held whole.
class VoteTally {
 public:
  VoteTally(Vote vote, int64_t columns);

  /// rows: `count` similarity rows of `columns` float32 values each, with
  /// their thresholds and counts.
  void add(const float* rows, int64_t count, const float* thresholds, const int64_t* counts);

  /// Collective: every column's class size, [N] float32 (NaN: no vote).
  /// thresholds [N] float32 and counts [N] int64 are every row's (gathered
  /// from all ranks); `nearest` visits this rank's rows once more.
  at::Tensor class_sizes(const at::Tensor& thresholds, const at::Tensor& counts,
                         const RowBlockVisitor& rows, dist::Comm& comm) const;

 private:
  Vote vote_;
  int64_t columns_;
  std::vector<int64_t> sum_, count_;  // mean, nearest: per column, sum of votes and their number
  std::map<int64_t, std::vector<int32_t>>
      mode_;  // mode: vote value -> per column, how many rows cast it
};

}  // namespace tc::sampling
