#include "tailedcore/sampling/class_size.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/tail_size.h"
#include "tailedcore/sampling/thresholds.h"

using namespace tc::sampling;

namespace {

TEST(ClassSize, NumSamplesPerClassPartitionsGreedily) {
  // Sizes 2,2 (a class of 2), 3,3,3 (a class of 3), 5 x5: worked by hand.
  std::vector<float> cs = {2, 2, 3, 3, 3, 5, 5, 5, 5, 5};
  EXPECT_EQ(predict_num_samples_per_class(cs), (std::vector<int64_t>{5, 3, 2}));
  // NaN counts as 1 (the reference's round(NaN).long() then max(., 1)); 2.5 rounds to 2.
  EXPECT_EQ(predict_num_samples_per_class({NAN, 2.5f, 2.5f}), (std::vector<int64_t>{2, 1}));
  // Leftovers smaller than the next size join the last class.
  EXPECT_EQ(predict_num_samples_per_class({1, 4, 4}), (std::vector<int64_t>{3}));
}

TEST(ClassSize, ElbowAndPercentileRule) {
  EXPECT_EQ(elbow({7}), 7);
  EXPECT_EQ(elbow({4, 4, 4}), 4);  // flat: NaN distances, first index
  EXPECT_EQ(elbow({100, 90, 10, 5, 1}), 10);
  // 15 % of 206 = 30: the smallest classes 1+5+10 = 16 <= 30, +90 > 30 -> size 10.
  EXPECT_EQ(predict_max_k({100, 90, 10, 5, 1}), 10);
  // If even the smallest class holds more than 15 %, the smallest size.
  EXPECT_EQ(predict_max_k({10, 10}), 10);
}

TEST(ClassSize, QuantisationTruncatesTowardZero) {
  const float row[] = {0.99f, 0.5f, 0.24f, 1.0f};
  const auto q = quantized_sorted(row, 4);  // trunc(4 v) / 4
  EXPECT_EQ(q, (std::vector<float>{0.f, 0.5f, 0.75f, 1.f}));
}

TEST(ClassSize, TrimMinOnARowWithNothingAboveHalfAngleIsDefined) {
  const float row[] = {1.f, 1.f, 1.f};
  bool degenerate = false;
  EXPECT_EQ(row_threshold(row, 3, Threshold::kTrimMin, &degenerate), 1.f);
  EXPECT_TRUE(degenerate);
}

TEST(ClassSize, EdgeCasesDoNotCrash) {
  auto comm = tc::dist::make_self_comm();
  // One image.
  auto one = select_tail(torch::rand({1, 8}), {}, *comm);
  EXPECT_EQ(one.class_sizes.size(0), 1);
  // All-identical embeddings: one class of N; the rule then calls every image tail.
  auto same = select_tail(torch::ones({20, 8}), {}, *comm);
  EXPECT_TRUE(torch::all(same.class_sizes == 20).item<bool>()) << same.class_sizes;
  EXPECT_EQ(same.tail_indices.size(0), 20);
  // Duplicate rows and a class of one image among two clusters.
  torch::manual_seed(0);
  auto a = torch::rand({1, 16}) * 5, b = torch::rand({1, 16}) * 5, c = torch::rand({1, 16}) * 5;
  auto x = torch::cat({a.repeat({30, 1}) + 0.01 * torch::rand({30, 16}),
                       b.repeat({25, 1}) + 0.01 * torch::rand({25, 16}), c});
  auto sel = select_tail(x, {}, *comm);
  EXPECT_EQ(sel.tail_indices.size(0), 1);
  EXPECT_EQ(sel.tail_indices[0].item<int64_t>(), 55);
  ClassSizeOptions bad;
  bad.vote = tc::sampling::Vote::kNone;  // exists only with per-row thresholds
  bad.threshold = tc::sampling::Threshold::kSymmin;
  EXPECT_THROW(select_tail(x, bad, *comm), tc::Error);
  EXPECT_THROW(tail_rules().parse("ada_median-mode", "tail_th_type"), tc::Error);
  EXPECT_EQ(class_size_options(TailRule::kAdaTrimMinMode).vote, tc::sampling::Vote::kMode);
}

// The similarity's entries do not depend on the blocks (ExactSimilarity), so
// neither does any threshold rule's result: bit for bit, for every rule.
TEST(ClassSize, BlockSizeDoesNotChangeTheResult) {
  torch::manual_seed(4);
  auto x = torch::cat({torch::rand({1, 32}).repeat({70, 1}) + 0.2 * torch::rand({70, 32}),
                       torch::rand({1, 32}).repeat({9, 1}) + 0.2 * torch::rand({9, 32})});
  auto comm = tc::dist::make_self_comm();
  for (const auto& [th, vote] :
       std::vector<std::pair<std::string, std::string>>{{"trim_min", "mode"},
                                                        {"double_max_step", "none"},
                                                        {"max_step", "mean"},
                                                        {"trim_min", "nearest"},
                                                        {"symmin", "mean"}}) {
    ClassSizeOptions whole, blocked;
    whole.threshold = blocked.threshold = tc::sampling::parse_threshold(th);
    whole.vote = blocked.vote = tc::sampling::parse_vote(vote);
    blocked.block_rows = 16;
    const auto a = select_tail(x, whole, *comm), b = select_tail(x, blocked, *comm);
    EXPECT_TRUE(torch::equal(a.class_sizes.nan_to_num(-1), b.class_sizes.nan_to_num(-1))) << th;
    EXPECT_TRUE(torch::equal(a.tail_indices, b.tail_indices)) << th;
  }
}

}  // namespace

TEST(ClassSize, DefaultBlockSplitsTheRowsOverTheRanksUpTo4096) {
  ClassSizeOptions o;  // block_rows 0
  EXPECT_EQ(similarity_block_rows(o, 1), 1);
  EXPECT_EQ(similarity_block_rows(o, 4294), 4096);
  EXPECT_EQ(similarity_block_rows(o, 811, 3), 271);
  EXPECT_EQ(similarity_block_rows(o, 2, 3), 1);
  o.block_rows = 512;
  EXPECT_EQ(similarity_block_rows(o, 300), 300);
  EXPECT_EQ(similarity_block_rows(o, 3000, 2), 512);
  o.block_rows = -1;
  auto comm = tc::dist::make_self_comm();
  EXPECT_THROW(select_tail(torch::rand({4, 3}), o, *comm), tc::Error);
}

// What the float32 BLAS product would give depends on the thread count
// (printed); the class sizes do not.
TEST(ClassSize, ResultDoesNotDependOnTheCallersThreads) {
  torch::manual_seed(5);
  const auto x = torch::relu(torch::randn({300, 2048}) + 0.5);
  const auto xn = (x / x.norm(2, 1, true)).contiguous();
  auto comm = tc::dist::make_self_comm();
  ClassSizeOptions o;
  o.threshold =
      tc::sampling::parse_threshold("double_max_step");  // the rule most sensitive to a last bit
  o.vote = tc::sampling::parse_vote("none");
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  const auto one_thread = xn.mm(xn.t());
  const auto a = select_tail(x, o, *comm);
  at::set_num_threads(2);
  const auto two_threads = xn.mm(xn.t());
  const auto b = select_tail(x, o, *comm);
  at::set_num_threads(saved);
  EXPECT_TRUE(torch::equal(a.class_sizes, b.class_sizes));
  std::printf("float32 BLAS, 1 against 2 threads: %lld of %lld entries differ\n",
              static_cast<long long>((one_thread != two_threads).sum().item<int64_t>()),
              static_cast<long long>(one_thread.numel()));
}
