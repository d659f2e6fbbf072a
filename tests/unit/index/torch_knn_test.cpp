// TorchKnn (the GPU path of NearestNeighbors) against FAISS, on the CPU here
// and on a GPU where one is present (skipped otherwise).
#include "tailedcore/index/torch_knn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/index/nearest.h"
#include "testing.h"

using tc::index::IndexOptions;
using tc::index::NearestNeighbors;
using tc::index::TorchKnn;

namespace {

// Distances within float tolerance of FAISS; a different row only where FAISS's
// own distance to it ties with the k-th within that tolerance. Returns the count
// of such swaps (reported, so a tie rate shows in the log).
int64_t expect_matches_faiss(const tc::index::SearchResult& got, const torch::Tensor& bank,
                             const torch::Tensor& queries, int64_t k, const std::string& config) {
  IndexOptions o;
  o.k = k;
  const auto want = NearestNeighbors(bank, o).search(queries);
  EXPECT_EQ(got.distances.sizes(), want.distances.sizes()) << config;
  EXPECT_TRUE(got.distances.device().is_cpu()) << config;
  const double scale = want.distances.abs().max().item<double>() + 1;
  const double tol = 1e-5 * scale;
  EXPECT_LE((got.distances - want.distances).abs().max().item<double>(), tol) << config;
  // A swapped index is fine only if its exact distance equals FAISS's at that rank.
  const auto rows =
      bank.index_select(0, got.indices.flatten()).view({queries.size(0), k, bank.size(1)});
  const auto exact = (queries.unsqueeze(1) - rows).pow(2).sum(2);  // [n, k]
  const auto swapped = got.indices != want.indices;
  EXPECT_LE(((exact - want.distances).abs() * swapped).max().item<double>(), tol) << config;
  return swapped.sum().item<int64_t>();
}

TEST(TorchKnn, EqualsFaissOnTheCpu) {
  torch::manual_seed(11);
  const auto bank = torch::randn({300, 24});
  const auto queries = torch::randn({97, 24});
  for (int64_t k : {1, 3}) {
    TorchKnn knn(bank, k, c10::Device(c10::kCPU));
    const auto r = knn.search(queries);
    const auto swaps = expect_matches_faiss(r, bank, queries, k, "cpu k=" + std::to_string(k));
    std::printf("[ info ] cpu k=%lld: %lld of %lld neighbours swapped on ties\n",
                static_cast<long long>(k), static_cast<long long>(swaps),
                static_cast<long long>(r.indices.numel()));
  }
}

TEST(TorchKnn, BudgetsBoundChunksAndBlocksAndAgreeToRounding) {
  torch::manual_seed(12);
  const auto bank = torch::randn({128, 8});
  const auto queries = torch::randn({50, 8});
  const c10::Device cpu(c10::kCPU);
  for (int64_t k : {1, 2}) {
    TorchKnn whole(bank, k, cpu);
    EXPECT_TRUE(whole.bank_resident());
    EXPECT_GE(whole.query_chunk(), 50);
    // Room for 3 query rows beside the resident bank: (8 + 1 + 128) floats and 2k best a row.
    const int64_t bank_bytes = 128 * 9 * 4, per_row = 4 * (9 + 128) + 2 * k * 12;
    tc::index::KnnOptions three;
    three.budget_bytes = std::max(2 * bank_bytes, bank_bytes + 3 * per_row);
    TorchKnn chunked(bank, k, cpu, three);
    EXPECT_TRUE(chunked.bank_resident());
    EXPECT_EQ(chunked.query_chunk(), (three.budget_bytes - bank_bytes) / per_row);
    // A budget below the bank: blocks of 20 rows streamed (half the budget), the rest for queries.
    tc::index::KnnOptions tiny;
    tiny.budget_bytes = 2 * 20 * 9 * 4;
    TorchKnn streamed(bank, k, cpu, tiny);
    EXPECT_FALSE(streamed.bank_resident());
    EXPECT_EQ(streamed.bank_block(), 20);
    EXPECT_EQ(streamed.query_chunk(), (tiny.budget_bytes / 2) / (4 * (9 + 20) + 2 * k * 12));
    const auto a = whole.search(queries);
    // Not bit for bit: OpenBLAS picks its kernel by the product's shape and the
    // CPU, so chunks and blocks agree with the whole to float rounding, and all with FAISS.
    for (const auto* other : {&chunked, &streamed}) {
      const auto b = other->search(queries);
      EXPECT_LE((a.distances - b.distances).abs().max().item<double>(),
                1e-5 * (a.distances.abs().max().item<double>() + 1))
          << "k=" << k;
      expect_matches_faiss(b, bank, queries, k, "blocked k=" + std::to_string(k));
    }
  }
}

TEST(TorchKnn, DuplicatesAreAtDistanceZeroAndBadInputIsNamed) {
  const auto bank = torch::tensor({{1.f, 2.f}, {3.f, 4.f}});
  const auto r = TorchKnn(bank, 1, c10::Device(c10::kCPU)).search(bank);
  EXPECT_TRUE(torch::equal(r.indices.flatten(), torch::tensor({0, 1}, torch::kInt64)));
  EXPECT_EQ(r.distances.max().item<float>(), 0.f);
  const auto bad_k = tc::testing::error_of([&] { TorchKnn(bank, 3, c10::Device(c10::kCPU)); });
  EXPECT_NE(bad_k.find("k = 3: expected 1..2"), std::string::npos) << bad_k;
  const auto bad_d = tc::testing::error_of([&] {
    TorchKnn(bank, 1, c10::Device(c10::kCPU)).search(torch::zeros({1, 3}));
  });
  EXPECT_NE(bad_d.find("queries have dimension 3: expected 2"), std::string::npos) << bad_d;
}

// The GPU: NearestNeighbors with cuda_device takes this path; same results.
TEST(TorchKnnGpu, EqualsFaissOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (or a CPU-only LibTorch)";
  torch::manual_seed(13);
  const auto bank = torch::randn({5000, 64});
  const auto queries = torch::randn({3000, 64});
  IndexOptions o;
  o.k = 3;
  o.cuda_device = 0;
  const NearestNeighbors nn(bank, o);
  const auto r = nn.search(queries);
  const auto swaps = expect_matches_faiss(r, bank, queries, 3, "cuda:0 k=3");
  std::printf("[ info ] cuda k=3: %lld of %lld neighbours swapped on ties\n",
              static_cast<long long>(swaps), static_cast<long long>(r.indices.numel()));
}

}  // namespace
