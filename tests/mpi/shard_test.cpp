// The sharded data plane over the world's ranks: each rank holds only its
// block of rows, and the results equal the one-process whole-bank functions.
// Blocks are uneven on purpose (rank r holds a different share; one rank may
// hold none), as image-sized blocks of a real run are.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "mpi_testing.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/projection.h"
#include "tailedcore/sampling/tailed_lof.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

// Rank r's block of n rows (or of n images of `unit` rows): uneven blocks, the
// last rank's the largest, rank 1 empty when there are 3 ranks.
tc::dist::Range uneven_block(int64_t n, int rank, int size) {
  std::vector<int64_t> w(size);
  for (int r = 0; r < size; ++r) w[r] = (size == 3 && r == 1) ? 0 : r + 1;
  int64_t total = 0;
  for (auto x : w) total += x;
  int64_t begin = 0;
  for (int r = 0; r < rank; ++r) begin += n * w[r] / total;
  const int64_t end = rank + 1 == size ? n : begin + n * w[rank] / total;
  return {begin, end};
}

TEST(MpiShard, ShardedGreedyEqualsWholeGreedy) {
  torch::manual_seed(21);
  const auto x = torch::randn({1003, 40});
  auto self = tc::dist::make_self_comm();
  const auto mine = uneven_block(x.size(0), world().rank(), world().size());
  for (const int64_t start : {-1, 700}) {
    tc::sampling::CoresetOptions o;
    o.ratio = 0.06;
    o.proj_dim = 0;
    o.seed = 5;
    o.start_index = start;
    tc::sampling::GreedyStats stats;
    const auto got =
        tc::sampling::greedy_coreset(x.narrow(0, mine.begin, mine.size()), o, world(), &stats);
    EXPECT_TRUE(torch::equal(got, tc::sampling::greedy_coreset(x, o, *self))) << "start " << start;
    EXPECT_EQ(stats.steps, got.size(0) - 1);
    EXPECT_EQ(stats.bytes_per_step, (40 + 4) * 4);
  }
}

TEST(MpiShard, ShardedBankEqualsWholeBank) {
  torch::manual_seed(22);
  const auto x = torch::randn({900, 64}).relu();
  auto self = tc::dist::make_self_comm();
  const auto mine = uneven_block(x.size(0), world().rank(), world().size());
  // The same rows as a file, each rank reading its own block (the tail branch).
  const auto dir = tc::testing::shared_temp_dir("bank");
  if (world().rank() == 0) {
    tc::io::H5Writer w(dir / "rows.h5", "tail_features", "k");
    w.write("features", x);
    w.commit();
  }
  world().barrier();
  // Every other row a candidate but a run in the middle: candidates unevenly spread.
  const auto keep =
      torch::cat({torch::arange(0, 300, 2), torch::arange(300, 320), torch::arange(500, 900, 3)});
  for (const int64_t proj : {0, 24}) {
    for (const bool subset : {false, true}) {
      tc::sampling::CoresetOptions o;
      o.ratio = 0.08;
      o.proj_dim = proj;
      o.seed = 3;
      const auto sub = subset ? keep : torch::Tensor();
      const auto want = tc::models::greedy_bank(tc::models::LocalRows::of(x, 0), sub, o, *self);
      const auto got = tc::models::greedy_bank(
          tc::models::LocalRows::of(x.narrow(0, mine.begin, mine.size()), mine.begin), sub, o,
          world(), nullptr, 50);
      const auto from_file = tc::models::greedy_bank(
          tc::models::LocalRows::of_file(dir / "rows.h5", "features", world()), sub, o, world(),
          nullptr, 64);
      auto whole = torch::empty_like(want.features);  // one rank holds it all, at its positions
      whole.index_copy_(0, want.positions, want.features);
      for (const auto* b : {&got, &from_file}) {
        EXPECT_TRUE(torch::equal(b->source_rows, want.source_rows))
            << "proj " << proj << " subset " << subset;
        // Each rank holds the chosen rows it owned, and where they go in the bank.
        EXPECT_TRUE(torch::equal(b->features, whole.index_select(0, b->positions)))
            << "proj " << proj << " subset " << subset;
        EXPECT_EQ(world()
                      .allreduce(torch::tensor({b->features.size(0)}), tc::dist::ReduceOp::kSum)
                      .item<int64_t>(),
                  want.rows());
      }
    }
  }
}

TEST(MpiShard, ShardedLofEqualsWholeLof) {
  torch::manual_seed(23);
  const int64_t N = 26, P = 7;  // P below some rank counts' multiples: uneven positions too
  const auto x = torch::randn({N * P, 48}).relu();
  auto self = tc::dist::make_self_comm();
  const auto mine = uneven_block(N, world().rank(), world().size());
  for (const int64_t proj : {0, 16}) {
    tc::sampling::LofOptions o;
    o.proj_dim = proj;
    o.seed = 9;
    const auto want = tc::sampling::patchwise_lof(x, P, o, *self);
    const auto got =
        tc::sampling::patchwise_lof(x.narrow(0, mine.begin * P, mine.size() * P), P, o, world());
    if (proj == 0)
      EXPECT_TRUE(torch::equal(got.scores, want.scores));
    else  // the projection of a block may round differently from the whole (BLAS blocking)
      EXPECT_TRUE(torch::allclose(got.scores, want.scores, 1e-6, 1e-7));
    EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices)) << "proj " << proj;
  }
}

TEST(MpiShard, ShardedTailedLofEqualsWholeTailedLof) {
  torch::manual_seed(14);
  // Two kinds of image (18 and 4) so the few-shot scores vary.
  const auto kind = torch::cat({torch::zeros({18}), torch::ones({4})}).to(torch::kInt64);
  const auto centres = torch::rand({2, 9, 32});
  const int64_t N = 22, P = 9;
  const auto x =
      (centres.index_select(0, kind) + 0.2 * torch::randn({N, P, 32})).abs().reshape({N * P, 32});
  auto self = tc::dist::make_self_comm();
  const auto mine = uneven_block(N, world().rank(), world().size());
  for (const int64_t proj : {0, 16}) {
    tc::sampling::LofOptions o;
    o.proj_dim = proj;
    o.seed = 9;
    const auto want = tc::sampling::tailed_lof(x, P, o, tc::sampling::Threshold::kSymmin, *self);
    const auto got = tc::sampling::tailed_lof(x.narrow(0, mine.begin * P, mine.size() * P), P, o,
                                              tc::sampling::Threshold::kSymmin, world());
    if (proj == 0)
      EXPECT_TRUE(torch::equal(got.scores, want.scores));
    else
      EXPECT_TRUE(torch::allclose(got.scores, want.scores, 1e-6, 1e-7));
    EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices)) << "proj " << proj;
    EXPECT_LT(want.kept_indices.size(0), N * P);
  }
}

// Images of three patch grids, interleaved, one grid held by a single image
// (mixed native sizes): LOF and TailedLOF over uneven blocks of whole images
// give the one-process scores and kept rows.
TEST(MpiShard, MixedGridLofEqualsWholeLof) {
  torch::manual_seed(31);
  std::vector<int64_t> hw;
  const int64_t N = 17;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t kind = i == 9 ? 2 : i % 2;  // 8 + 8 images of 2x3 and 3x3, one of 1x4
    hw.push_back(kind == 0 ? 2 : kind == 1 ? 3 : 1);
    hw.push_back(kind == 0 ? 3 : kind == 1 ? 3 : 4);
  }
  const auto grids = tc::core::PatchGrids::of(torch::tensor(hw).view({N, 2}));
  const auto x = torch::randn({grids.rows(), 24}).abs();
  auto self = tc::dist::make_self_comm();
  const auto mine = uneven_block(N, world().rank(), world().size());
  const int64_t first = grids.row_begin(mine.begin), rows = grids.row_begin(mine.end) - first;
  tc::sampling::LofOptions o;
  o.proj_dim = 0;
  const auto want = tc::sampling::patchwise_lof(x, grids, o, *self);
  const auto got = tc::sampling::patchwise_lof(x.narrow(0, first, rows), grids, o, world());
  EXPECT_TRUE(torch::equal(got.scores, want.scores));
  EXPECT_TRUE(torch::equal(got.kept_indices, want.kept_indices));
  const auto twant = tc::sampling::tailed_lof(x, grids, o, tc::sampling::Threshold::kSymmin, *self);
  const auto tgot = tc::sampling::tailed_lof(x.narrow(0, first, rows), grids, o,
                                             tc::sampling::Threshold::kSymmin, world());
  EXPECT_TRUE(torch::equal(tgot.scores, twant.scores));
  EXPECT_TRUE(torch::equal(tgot.kept_indices, twant.kept_indices));
}

// features.h5 of images of two grids: /grids instead of feature_h/feature_w,
// and each rank's block starts at its first image's row.
TEST(MpiShard, MixedGridFeatureShardsRoundTrip) {
  const auto dir = tc::testing::shared_temp_dir("mixed_shards");
  const auto path = dir / "features.h5";
  const int64_t N = 7, D = 5;
  const auto grids = tc::core::PatchGrids::of(
      torch::tensor({2, 2, 2, 2, 1, 3, 1, 3, 1, 3, 2, 2, 2, 2}).view({N, 2}));
  torch::manual_seed(3);
  const auto all = torch::randn({grids.rows(), D});
  std::vector<tc::data::ImageRecord> records(N);
  for (int64_t i = 0; i < N; ++i) records[i].path = "img" + std::to_string(i) + ".png";
  const auto mine = tc::dist::shard_range(N, world().rank(), world().size());
  tc::pipeline::FeatureSet local;
  local.patches = all.narrow(0, grids.row_begin(mine.begin),
                             grids.row_begin(mine.end) - grids.row_begin(mine.begin));
  local.grids = grids.slice(mine.begin, mine.size());
  tc::pipeline::write_features_sharded(path, "key1", local, torch::randn({N, 2}), records,
                                       tc::io::DType::kFloat32, "bb", world());
  world().barrier();
  const tc::io::H5Reader r(path);
  EXPECT_FALSE(r.has_attr("feature_h"));
  EXPECT_TRUE(torch::equal(r.read("grids"), grids.hw()));
  const auto whole = tc::pipeline::read_features(path);
  EXPECT_TRUE(torch::equal(whole.patches, all));
  EXPECT_TRUE(torch::equal(whole.grids.hw(), grids.hw()));
  const auto shard = tc::pipeline::read_feature_shard(path, world());
  EXPECT_EQ(shard.first_row, grids.row_begin(mine.begin));
  EXPECT_EQ(shard.total_rows, grids.rows());
  EXPECT_TRUE(torch::equal(shard.local.patches, local.patches));
  EXPECT_TRUE(torch::equal(shard.local.grids.hw(), local.grids.hw()));
  EXPECT_TRUE(torch::equal(shard.grids.hw(), grids.hw()));
  world().barrier();
}

TEST(MpiShard, FeatureShardsMakeOneVirtualDataset) {
  const auto dir = tc::testing::shared_temp_dir("shards");
  const auto path = dir / "features.h5";
  const int64_t N = 11, P = 6, D = 10;
  torch::manual_seed(24);
  const auto all = torch::randn({N * P, D});
  const auto emb = torch::randn({N, 4});
  std::vector<tc::data::ImageRecord> records(N);
  for (int64_t i = 0; i < N; ++i) {
    records[i].path = "img" + std::to_string(i) + ".png";
    records[i].class_name = i < 5 ? "a" : "b";
  }
  const auto mine = tc::dist::shard_range(N, world().rank(), world().size());
  tc::pipeline::FeatureSet local;
  local.patches = all.narrow(0, mine.begin * P, mine.size() * P);
  local.grids = tc::core::PatchGrids::uniform(mine.size(), 2, 3);
  tc::pipeline::write_features_sharded(path, "key1", local, emb, records, tc::io::DType::kFloat32,
                                       "bb", world());
  world().barrier();
  // What h5py sees: one /features [N * P, D] dataset, the rows of every rank in order.
  const auto whole = tc::pipeline::read_features(path);
  EXPECT_TRUE(torch::equal(whole.patches, all));
  EXPECT_TRUE(torch::equal(whole.embeddings, emb));
  EXPECT_EQ(static_cast<int>(tc::io::virtual_pieces(path, "features").size()), world().size());
  // Each rank reads its own block.
  const auto shard = tc::pipeline::read_feature_shard(path, world());
  EXPECT_EQ(shard.first_row, mine.begin * P);
  EXPECT_EQ(shard.total_rows, N * P);
  EXPECT_TRUE(torch::equal(shard.local.patches, local.patches));
  const tc::pipeline::StageCache cache(dir, "key1");
  EXPECT_TRUE(cache.done("features", world()));
  EXPECT_FALSE(tc::pipeline::StageCache(dir, "other").done("features", world()));
  world().barrier();
  // A shard gone: the artifact no longer counts as done, and the error names the shard.
  const auto last = tc::pipeline::shard_path(path, world().size() - 1, world().size());
  if (world().rank() == 0) fs::remove(last);
  world().barrier();
  EXPECT_FALSE(cache.done("features", world()));
  if (world().rank() == 0) {
    try {
      tc::io::check_virtual_sources(path);
      ADD_FAILURE() << "a missing shard passed the check";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(last.filename().string()), std::string::npos)
          << e.what();
    }
  }
  world().barrier();
}

}  // namespace
