// The votes' tallies against the reference's votes written out column by
// column on the dense count map (vote_mode, vote_mean below: scipy's mode and
// torch's mean of the non-zero entries).
#include "tailedcore/sampling/votes.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>

#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/thresholds.h"
#include "testing.h"

using namespace tc::sampling;

namespace {

// The most frequent non-zero value of a count-map column, the smallest on ties; NaN if none.
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

// The mean of the non-zero values (0/0 = NaN as torch).
float vote_mean(const std::vector<int64_t>& column) {
  int64_t sum = 0, nonzero = 0;
  for (int64_t v : column) {
    sum += v;
    nonzero += v != 0;
  }
  return static_cast<float>(sum) / static_cast<float>(nonzero);
}

TEST(Votes, ColumnOraclesIgnoreZerosAndBreakTiesToTheSmallest) {
  EXPECT_EQ(vote_mode({0, 5, 3, 5, 3, 0}), 3.f);
  EXPECT_EQ(vote_mode({0, 7, 7, 2}), 7.f);
  EXPECT_TRUE(std::isnan(vote_mode({0, 0})));
  EXPECT_FLOAT_EQ(vote_mean({0, 4, 2}), 3.f);
}

// The reference's votes on a dense similarity S [N, N] with row thresholds th.
std::vector<float> dense_votes(const torch::Tensor& S, const torch::Tensor& th, Vote vote) {
  const int64_t N = S.size(0);
  const auto in = S >= th.view({N, 1});
  const auto r = in.sum(1);                               // r_i
  const auto cm = in.to(torch::kInt64) * r.view({N, 1});  // count_map
  std::vector<float> out(N);
  for (int64_t j = 0; j < N; ++j) {
    const auto col = cm.select(1, j).contiguous();
    const std::vector<int64_t> c(col.data_ptr<int64_t>(), col.data_ptr<int64_t>() + N);
    if (vote == Vote::kMode) out[j] = vote_mode(c);
    if (vote == Vote::kMean) out[j] = vote_mean(c);
    if (vote == Vote::kNone)
      out[j] = static_cast<float>(r[j].item<int64_t>() * r[j].item<int64_t>()) / N;
    if (vote == Vote::kNearest) {
      const float mean = vote_mean(c);
      int64_t idx = 0;
      float best = INFINITY;
      for (int64_t i = 0; i < N; ++i) {
        const float d = std::fabs(static_cast<float>(c[i]) - mean);
        if (d < best) best = d, idx = i;
      }
      out[j] = static_cast<float>(cm[j][idx].item<int64_t>());
    }
  }
  return out;
}

TEST(Votes, TalliesInBlocksEqualTheReferenceVotesOnTheCountMap) {
  torch::manual_seed(8);
  const int64_t N = 37;
  // Similarities and thresholds on a grid of 1/8, so that votes tie and repeat;
  // every row includes itself but row 5, and column 5 is below every threshold
  // (no vote: NaN).
  auto S = (torch::rand({N, N}) * 8).floor() / 8;
  const auto th = (torch::rand({N}) * 4).floor() / 8 + 0.25;
  S.diagonal().fill_(1);
  S.select(1, 5).fill_(-1);
  const auto r = (S >= th.view({N, 1})).sum(1);
  auto comm = tc::dist::make_self_comm();
  for (const Vote vote : {Vote::kMean, Vote::kMode, Vote::kNone, Vote::kNearest}) {
    for (const int64_t block : {N, int64_t{10}}) {
      const RowBlockVisitor blocks =
          [&](const std::function<void(int64_t, const at::Tensor&)>& fn) {
            for (int64_t s = 0; s < N; s += block)
              fn(s, S.narrow(0, s, std::min(block, N - s)).contiguous());
          };
      VoteTally tally(vote, N);
      blocks([&](int64_t s, const at::Tensor& rows) {
        tally.add(rows.data_ptr<float>(), rows.size(0), th.data_ptr<float>() + s,
                  r.data_ptr<int64_t>() + s);
      });
      const auto got = tally.class_sizes(th, r, blocks, *comm);
      const auto want = dense_votes(S, th, vote);
      ASSERT_EQ(got.size(0), N);
      for (int64_t j = 0; j < N; ++j) {
        const float g = got[j].item<float>();
        if (std::isnan(want[j]))
          EXPECT_TRUE(std::isnan(g)) << vote_name(vote) << " column " << j << ": " << g;
        else
          EXPECT_EQ(g, want[j]) << vote_name(vote) << " block " << block << " column " << j;
      }
    }
  }
}

TEST(Votes, NamesRoundTripAndAnUnknownOneListsTheKnown) {
  for (const Vote v : {Vote::kMean, Vote::kMode, Vote::kNone, Vote::kNearest})
    EXPECT_EQ(parse_vote(vote_name(v)), v);
  EXPECT_EQ(tc::testing::error_of([] { parse_vote("median"); }),
            "vote: 'median' is unknown: expected one of mean, mode, none, nearest");
  for (const char* name : {"symmin", "symavg", "indep", "half_min", "trim_min", "truncate_min",
                           "max_step", "double_max_step"})
    EXPECT_STREQ(threshold_name(parse_threshold(name)), name);
  EXPECT_EQ(tc::testing::error_of([] { parse_threshold("median"); }),
            "threshold type: 'median' is unknown: expected one of symmin, symavg, indep, half_min, "
            "trim_min, "
            "truncate_min, max_step, double_max_step");
  EXPECT_NE(tc::testing::error_of([] {
              row_threshold(nullptr, 0, Threshold::kSymmin, nullptr);
            }).find("per-row"),
            std::string::npos);
}

}  // namespace
