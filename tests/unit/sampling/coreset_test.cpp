// Greedy k-center coreset (SPEC 3.2) and the random projection (SPEC 3.1):
// closed-form cases, the reference's per-step LibTorch loop, edge cases.
#include "tailedcore/sampling/coreset.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/greedy_cells.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/projection.h"

using namespace tc::sampling;

namespace {

// The reference's loop (sampler.py, _brute_compute_greedy_coreset_indices):
// per step a tensor difference, torch.norm, torch.minimum and torch.argmax.
std::vector<int64_t> libtorch_greedy(const torch::Tensor& p, int64_t first, int64_t m) {
  std::vector<int64_t> sel{first};
  auto mind = torch::full({p.size(0)}, std::numeric_limits<float>::infinity());
  for (int64_t s = 1; s < m; ++s) {
    const auto d = torch::norm(p - p[sel.back()], 2, 1);
    mind = torch::minimum(mind, d);
    sel.push_back(torch::argmax(mind).item<int64_t>());
  }
  return sel;
}

// The same loop with a block kernel instead of the tensor ops.
template <class Kernel>
std::vector<int64_t> kernel_greedy(const torch::Tensor& p, int64_t first, int64_t m,
                                   Kernel kernel) {
  const auto rows = p.contiguous();
  std::vector<float> mind(rows.size(0), std::numeric_limits<float>::infinity());
  std::vector<int64_t> sel{first};
  for (int64_t s = 1; s < m; ++s) {
    const auto c = rows[sel.back()].contiguous();
    const auto best = kernel(rows.data_ptr<float>(), rows.size(0), rows.size(1),
                             c.data_ptr<float>(), mind.data(), 0);  // 0: the caller's team
    sel.push_back(best.index);
  }
  return sel;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

std::vector<int64_t> run(const torch::Tensor& x, double ratio, int64_t start, int64_t proj = 0,
                         uint64_t seed = 0) {
  auto comm = tc::dist::make_self_comm();
  CoresetOptions o;
  o.ratio = ratio;
  o.proj_dim = proj;
  o.start_index = start;
  o.seed = seed;
  return to_vector(greedy_coreset(x, o, *comm));
}

TEST(Greedy, PointsOnALine) {
  // x = 0..9, start 0: farthest 9; then min(|x|, |x-9|) peaks at 4 and 5 (4 first);
  // then with {0, 9, 4} the distances are 0 1 2 1 0 1 2 2 1 0 -> index 2.
  const auto x = torch::arange(10, torch::kFloat32).view({10, 1});
  EXPECT_EQ(run(x, 0.4, 0), (std::vector<int64_t>{0, 9, 4, 2}));
  // Start at 5: 0 (distance 5) is farther than 9 (4); then 9.
  EXPECT_EQ(run(x, 0.3, 5), (std::vector<int64_t>{5, 0, 9}));
}

TEST(Greedy, TiesGoToTheLowestIndex) {
  // Rows 1..3 are all at distance 1 from row 0: the first of them is chosen.
  const auto x = torch::tensor({0.f, 0.f, 1.f, 0.f, 0.f, 1.f, -1.f, 0.f}).view({4, 2});
  EXPECT_EQ(run(x, 0.5, 0), (std::vector<int64_t>{0, 1}));
}

TEST(Greedy, DuplicateRowsAreNotPickedTwiceWhileOthersRemain) {
  // Rows 0-2 identical at 0, rows 3-5 identical at 5, row 6 at 2.
  const auto x = torch::tensor({0.f, 0.f, 0.f, 5.f, 5.f, 5.f, 2.f}).view({7, 1});
  // From 0: farthest is 5 (row 3, the first copy); then min(|x|, |x-5|): row 6 (2).
  EXPECT_EQ(run(x, 3.0 / 7 + 1e-9, 1), (std::vector<int64_t>{1, 3, 6}));
}

TEST(Greedy, SizeIsIntOfNTimesRatioButAtLeastOne) {
  torch::manual_seed(0);
  const auto x = torch::randn({57, 5});
  EXPECT_EQ(run(x, 0.1, 3).size(), 5u);                   // int(5.7)
  EXPECT_EQ(run(x, 0.01, 3), (std::vector<int64_t>{3}));  // int(0.57) = 0 -> the start alone
  EXPECT_EQ(run(torch::randn({1, 4}), 0.1, -1), (std::vector<int64_t>{0}));  // n = 1
}

TEST(Greedy, RatioOneReturnsEveryRowOnce) {
  torch::manual_seed(1);
  const auto sel = run(torch::randn({40, 3}), 1.0, 7);
  ASSERT_EQ(sel.size(), 40u);
  auto sorted = sel;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(Greedy, BadInputIsAnError) {
  auto comm = tc::dist::make_self_comm();
  CoresetOptions o;
  o.ratio = 0;
  EXPECT_THROW(greedy_coreset(torch::randn({10, 2}), o, *comm), tc::Error);
  o.ratio = 1.5;
  EXPECT_THROW(greedy_coreset(torch::randn({10, 2}), o, *comm), tc::Error);
  o.ratio = 0.5;
  EXPECT_THROW(greedy_coreset(torch::randn({0, 2}), o, *comm), tc::Error);
  o.start_index = 10;
  EXPECT_THROW(greedy_coreset(torch::randn({10, 2}), o, *comm), tc::Error);
  EXPECT_THROW(greedy_coreset(torch::randn({10}), CoresetOptions{}, *comm), tc::Error);
}

TEST(Greedy, FirstCentreFromSeedIsDeterministicAndInRange) {
  CoresetOptions o;
  for (uint64_t seed : {0ull, 1ull, 42ull}) {
    o.seed = seed;
    const int64_t a = first_centre(1000, o);
    EXPECT_EQ(a, first_centre(1000, o));
    EXPECT_GE(a, 0);
    EXPECT_LT(a, 1000);
  }
  o.start_index = 17;
  EXPECT_EQ(first_centre(1000, o), 17);
}

TEST(Greedy, SameSequenceAsTheLibTorchLoopWithoutProjection) {
  torch::manual_seed(2);
  const auto x = torch::randn({3000, 64}) * 2 + torch::rand({3000, 1});
  EXPECT_EQ(run(x, 0.1, 11), libtorch_greedy(x, 11, 300));
}

TEST(Greedy, SameSequenceAsTheLibTorchLoopWithProjection) {
  torch::manual_seed(3);
  const auto x = torch::rand({2000, 96});
  EXPECT_EQ(run(x, 0.1, 0, 24, 5), libtorch_greedy(project(x, 24, 5), 0, 200));
}

// The torch-order kernel reproduces torch::norm bit for bit (on a CPU whose
// LibTorch dispatches AVX2 kernels; see greedy_kernel.h).
TEST(GreedyKernel, DistancesBitIdenticalToTorchNorm) {
  torch::manual_seed(4);
  for (int64_t d : {128, 32, 130, 3, 1024}) {
    const auto rows = torch::randn({517, d}) * 3 + 1;
    const auto c = rows[17].contiguous();
    const auto want = torch::norm(rows - c, 2, 1).contiguous();
    std::vector<float> mind(517, std::numeric_limits<float>::infinity());
    update_min_distances_torch_order(rows.data_ptr<float>(), 517, d, c.data_ptr<float>(),
                                     mind.data());
    int64_t differ = 0;
    for (int64_t i = 0; i < 517; ++i) differ += mind[i] != want[i].item<float>();
    EXPECT_EQ(differ, 0) << "d = " << d;
  }
}

TEST(GreedyKernel, SameSequenceAsTheLibTorchLoopOnALargerBank) {
  torch::manual_seed(5);
  // Realistic-looking: clustered, non-negative, 128-d; 20000 rows, 400 steps.
  const auto centres = torch::rand({50, 128}) * 2;
  const auto x =
      (centres.index_select(0, torch::randint(50, {20000})) + 0.3 * torch::randn({20000, 128}))
          .relu();
  EXPECT_EQ(kernel_greedy(x, 123, 400, update_min_distances_torch_order),
            libtorch_greedy(x, 123, 400));
}

TEST(GreedyKernel, CoresetKernelSameSequenceOnALargerBank) {
  torch::manual_seed(5);
  const auto centres = torch::rand({50, 128}) * 2;
  const auto x =
      (centres.index_select(0, torch::randint(50, {20000})) + 0.3 * torch::randn({20000, 128}))
          .relu();
  EXPECT_EQ(kernel_greedy(x, 123, 400, update_min_distances), libtorch_greedy(x, 123, 400));
}

TEST(GreedyKernel, EmptyAndSingleRowBlocks) {
  const float row[3] = {1.f, 2.f, 2.f}, centre[3] = {0.f, 0.f, 0.f};
  float mind[1] = {std::numeric_limits<float>::infinity()};
  EXPECT_EQ(update_min_distances_torch_order(row, 0, 3, centre, mind).index, -1);
  const auto best = update_min_distances_torch_order(row, 1, 3, centre, mind);
  EXPECT_EQ(best.index, 0);
  EXPECT_FLOAT_EQ(best.value, 3.f);
  EXPECT_FLOAT_EQ(mind[0], 3.f);
}

TEST(Projection, BoundsSeedAndShape) {
  const auto w = random_projection(1024, 128, 7);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{1024, 128}));
  EXPECT_EQ(w.scalar_type(), torch::kFloat32);
  const double bound = 1.0 / 32;  // 1 / sqrt(1024)
  EXPECT_LE(w.abs().max().item<double>(), bound);
  // U(-b, b): mean 0, variance b^2 / 3 (131072 draws: tolerances are many sigmas wide).
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.01 * bound);
  EXPECT_NEAR(w.var().item<double>(), bound * bound / 3, 0.02 * bound * bound / 3);
  EXPECT_GT(w.abs().max().item<double>(), 0.99 * bound);
  EXPECT_TRUE(torch::equal(w, random_projection(1024, 128, 7)));
  EXPECT_FALSE(torch::equal(w, random_projection(1024, 128, 8)));
}

TEST(Projection, SkippedWhenDisabledOrDimsMatch) {
  torch::manual_seed(6);
  const auto x = torch::randn({5, 16});
  EXPECT_TRUE(torch::equal(project(x, 0, 1), x));
  EXPECT_TRUE(torch::equal(project(x, 16, 1), x));  // the reference skips equal dims
  const auto p = project(x, 4, 1);
  EXPECT_TRUE(torch::allclose(p, x.mm(random_projection(16, 4, 1))));
}

// Rows cut anywhere (ranks, blocks) and any thread count project bit for bit as the
// whole does on one thread.
TEST(Projection, AnyCutAndThreadCountGivesTheSameBits) {
  torch::manual_seed(7);
  const int64_t n = 2 * kProjectRows + 611;
  const auto x = torch::randn({n, 96});
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  const auto whole = project(x, 24, 3);
  at::set_num_threads(2);
  for (const std::vector<int64_t>& cuts : {std::vector<int64_t>{0, 137, 1500, n},
                                           {0, kProjectRows, kProjectRows + 1, n},
                                           {0, 1, 2, n - 1, n},
                                           {0, n}}) {
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i + 1 < cuts.size(); ++i)
      parts.push_back(project(x.narrow(0, cuts[i], cuts[i + 1] - cuts[i]), 24, 3, cuts[i]));
    EXPECT_TRUE(torch::equal(torch::cat(parts), whole)) << cuts[1];
  }
  at::set_num_threads(before);
}

}  // namespace

namespace {

// n rows around 40 seeded cluster centres (where the greedy's bounds prune).
torch::Tensor clustered_bank(uint64_t seed, int64_t n, int64_t d) {
  torch::manual_seed(seed);
  const auto centres = torch::rand({40, d}) * 3;
  return (centres.index_select(0, torch::randint(40, {n})) + 0.2 * torch::randn({n, d}))
      .relu()
      .contiguous();
}

// The cell stepper beside the plain step, step by step from the same start:
// the same minimum distances and picks bit for bit, on clustered banks of
// several widths (d % 8 != 0 included) and a row count that leaves a partial
// block of eight, past kLeaders centres (members of groups); and it must visit
// far fewer rows than a pass over all of them.
TEST(GreedyCells, BitIdenticalToThePlainStepAndVisitsFewRows) {
  for (const int64_t d : {128, 100, 7}) {
    const auto x = clustered_bank(11, 6003, d);
    const int64_t n = x.size(0), steps = GreedyCells::kLeaders + 400;
    const float* rows = x.data_ptr<float>();
    std::vector<float> plain(n, std::numeric_limits<float>::infinity()), cells = plain;
    GreedyCells stepper(rows, n, d);
    int64_t last = 17;
    for (int64_t s = 0; s < steps; ++s) {
      const float* c = rows + last * d;
      const auto a = update_min_distances_torch_order(rows, n, d, c, plain.data(), 1);
      const auto b = stepper.step(c, cells.data(), 2);
      ASSERT_EQ(a.index, b.index) << "d " << d << " step " << s;
      ASSERT_EQ(a.value, b.value) << "d " << d << " step " << s;
      ASSERT_EQ(std::memcmp(plain.data(), cells.data(), n * sizeof(float)), 0)
          << "d " << d << " step " << s;
      last = a.index;
    }
    EXPECT_EQ(stepper.visits().steps, steps);
    EXPECT_LT(stepper.visits().rows_visited, n * steps / 4)
        << "d " << d << ": the cells pruned too little";
  }
}

// A stepper restored from another's state (each row's nearest centre, the
// centres, the min-distances) goes on with the same picks; rows whose nearest
// centre is unknown (-1) are read until one comes closer.
TEST(GreedyCells, RestoredStateGoesOnWithTheSamePicks) {
  const int64_t d = 40;
  const auto x = clustered_bank(12, 3001, d);
  const int64_t n = x.size(0), cut = GreedyCells::kLeaders + 50, steps = cut + 200;
  const float* rows = x.data_ptr<float>();
  std::vector<float> mind(n, std::numeric_limits<float>::infinity());
  GreedyCells whole(rows, n, d);
  std::vector<int64_t> picks{5};
  std::vector<float> centres, saved;
  std::vector<int32_t> nearest;
  for (int64_t s = 0; s < steps; ++s) {
    if (s == cut) {
      saved = mind;
      nearest = whole.nearest();
    }
    const float* c = rows + picks.back() * d;
    if (s < cut) centres.insert(centres.end(), c, c + d);
    picks.push_back(whole.step(c, mind.data(), 1).index);
  }
  for (const bool forget : {false, true}) {
    auto near = nearest;
    if (forget)
      for (int64_t i = 0; i < n; i += 3) near[i] = -1;
    auto md = saved;
    GreedyCells resumed(rows, n, d);
    resumed.restore(near.data(), centres.data(), cut, md.data());
    for (int64_t s = cut; s < steps; ++s)
      ASSERT_EQ(resumed.step(rows + picks[s] * d, md.data(), 1).index, picks[s + 1])
          << "step " << s << (forget ? " (some nearest unknown)" : "");
    EXPECT_EQ(std::memcmp(md.data(), mind.data(), n * sizeof(float)), 0);
  }
}

}  // namespace
