#include "tailedcore/index/nearest.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "tailedcore/core/check.h"
#include "testing.h"

using tc::index::IndexOptions;
using tc::index::NearestNeighbors;

namespace {

TEST(NearestNeighbors, FlatReturnsSquaredDistancesOfTheTrueNearest) {
  auto bank = torch::tensor({{0.f, 0.f}, {3.f, 4.f}, {10.f, 0.f}});
  auto queries = torch::tensor({{0.f, 1.f}, {3.f, 5.f}, {9.f, 0.f}});
  NearestNeighbors nn(bank, IndexOptions{});
  auto r = nn.search(queries);
  EXPECT_TRUE(torch::equal(r.indices.flatten(), torch::tensor({0, 1, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::allclose(r.distances.flatten(), torch::tensor({1.f, 1.f, 1.f})));
}

// Queries cut anywhere (ranks, blocks) get the bits the whole gets: each is
// searched in the fixed call of kSearchRows its index falls in.
TEST(NearestNeighbors, AnyCutOfTheQueriesGivesTheSameBits) {
  torch::manual_seed(11);
  const auto bank = torch::randn({700, 48}) * 3;
  const int64_t n = 2 * NearestNeighbors::kSearchRows + 377;
  const auto queries = torch::randn({n, 48}) * 3;
  IndexOptions o;
  o.k = 3;
  NearestNeighbors nn(bank, o);
  const auto whole = nn.search(queries);
  for (const std::vector<int64_t>& cuts : {std::vector<int64_t>{0, 5, 1100, n},
                                           {0, NearestNeighbors::kSearchRows, n},
                                           {0, 1, n - 1, n}}) {
    std::vector<torch::Tensor> d, i;
    for (size_t c = 0; c + 1 < cuts.size(); ++c) {
      const auto part = nn.search(queries.narrow(0, cuts[c], cuts[c + 1] - cuts[c]), cuts[c]);
      d.push_back(part.distances);
      i.push_back(part.indices);
    }
    EXPECT_TRUE(torch::equal(torch::cat(d), whole.distances)) << cuts[1];
    EXPECT_TRUE(torch::equal(torch::cat(i), whole.indices)) << cuts[1];
  }
}

TEST(NearestNeighbors, MatchesBruteForceAndHonoursK) {
  torch::manual_seed(3);
  auto bank = torch::randn({200, 16});
  auto queries = torch::randn({50, 16});
  IndexOptions opts;
  opts.k = 3;
  opts.query_batch = 7;  // several batches
  auto r = NearestNeighbors(bank, opts).search(queries);
  auto d2 = torch::cdist(queries.to(torch::kFloat64), bank.to(torch::kFloat64)).pow(2);
  auto [want, want_idx] = d2.topk(3, 1, /*largest=*/false);
  EXPECT_TRUE(torch::equal(r.indices, want_idx));
  EXPECT_TRUE(torch::allclose(r.distances.to(torch::kFloat64), want, 1e-4, 1e-4));
}

TEST(NearestNeighbors, KIsClampedToTheBankAndDimensionIsChecked) {
  auto bank = torch::zeros({2, 4});
  IndexOptions opts;
  opts.k = 5;
  NearestNeighbors nn(bank, opts);
  EXPECT_EQ(nn.k(), 2);
  EXPECT_THROW(nn.search(torch::zeros({1, 3})), tc::Error);
  EXPECT_THROW(NearestNeighbors(torch::zeros({0, 4}), IndexOptions{}), tc::Error);
  EXPECT_EQ(tc::testing::error_of([] { tc::index::index_types().parse("hnsw", "model.index"); }),
            "model.index: 'hnsw' is unknown: expected one of flat, ivf");
}

TEST(NearestNeighbors, IvfRecallIsHighOnClusteredData) {
  torch::manual_seed(5);
  auto centres = torch::randn({20, 8}) * 10;
  auto bank = centres.repeat({100, 1}) + torch::randn({2000, 8}) * 0.1;
  auto queries = centres.repeat({5, 1}) + torch::randn({100, 8}) * 0.1;
  IndexOptions opts;
  opts.type = tc::index::IndexType::kIvf;
  opts.ivf_lists = 20;
  opts.ivf_probe = 4;
  EXPECT_GE(tc::index::recall_at_1(bank, queries, opts), 0.9);
}

}  // namespace
