// The greedy bank (models::greedy_bank) over rows in memory and over rows read
// from a file block by block: the same bank whatever the block size, and the
// greedy's own selection mapped back to rows.
#include "tailedcore/models/memory_bank.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "testing.h"

using tc::models::greedy_bank;
using tc::models::LocalRows;

namespace {

torch::Tensor write_features(const std::filesystem::path& path, int64_t n, int64_t d) {
  torch::manual_seed(4);
  const auto x = torch::randn({n, d}).relu();
  tc::io::H5Writer w(path, "tail_features", "test");
  w.write("features", x);
  w.write("flat", torch::zeros({n}));
  w.commit();
  return x;
}

// A fitted bank's rows in bank order (each rank holds its own at `positions`; one rank: all).
torch::Tensor in_bank_order(const tc::models::MemoryBank& b) {
  if (!b.positions.defined()) return b.features;
  auto out = torch::empty_like(b.features);
  out.index_copy_(0, b.positions, b.features);
  return out;
}

void expect_same_bank(const tc::models::MemoryBank& got, const tc::models::MemoryBank& want,
                      int64_t block) {
  EXPECT_TRUE(torch::equal(got.source_rows, want.source_rows)) << "block " << block;
  EXPECT_TRUE(torch::equal(in_bank_order(got), in_bank_order(want))) << "block " << block;
}

tc::sampling::CoresetOptions options(double ratio, int64_t proj_dim, uint64_t seed) {
  tc::sampling::CoresetOptions o;
  o.ratio = ratio;
  o.proj_dim = proj_dim;
  o.seed = seed;
  return o;
}

}  // namespace

TEST(GreedyBank, FromAFileEqualsTheInMemoryBankForAnyBlockSize) {
  tc::testing::TempDir dir;
  const auto x = write_features(dir / "f.h5", 1000, 64);
  auto comm = tc::dist::make_self_comm();
  auto o = options(0.1, 16, 3);
  const auto want = greedy_bank(LocalRows::of(x, 0), {}, o, *comm);
  ASSERT_EQ(want.rows(), 100);
  EXPECT_TRUE(torch::equal(in_bank_order(want), x.index_select(0, want.source_rows)));
  for (int64_t block : {int64_t{1}, int64_t{97}, int64_t{1000}, int64_t{4096}}) {
    expect_same_bank(greedy_bank(LocalRows::of_file(dir / "f.h5", "features", *comm), {}, o, *comm,
                                 nullptr, block),
                     want, block);
    expect_same_bank(greedy_bank(LocalRows::of(x, 0), {}, o, *comm, nullptr, block), want, block);
  }
  // Without a projection: the greedy's own selection on the rows.
  o.proj_dim = 0;
  const auto whole =
      greedy_bank(LocalRows::of_file(dir / "f.h5", "features", *comm), {}, o, *comm, nullptr, 97);
  EXPECT_TRUE(torch::equal(whole.source_rows, tc::sampling::greedy_coreset(x, o, *comm)));
  EXPECT_TRUE(torch::equal(in_bank_order(whole), x.index_select(0, whole.source_rows)));
}

TEST(GreedyBank, ASubsetOfRowsEqualsTheBankOfThoseRows) {
  tc::testing::TempDir dir;
  const auto x = write_features(dir / "f.h5", 600, 32);
  auto comm = tc::dist::make_self_comm();
  const auto o = options(0.2, 8, 0);
  const auto kept = torch::arange(0, 600, 3, torch::kInt64);  // e.g. LOF's kept rows
  // What the bank must be: the greedy over the kept rows, mapped back to rows.
  tc::models::MemoryBank want;
  want.source_rows =
      kept.index_select(0, tc::sampling::greedy_coreset(x.index_select(0, kept), o, *comm));
  want.features = x.index_select(0, want.source_rows);
  for (int64_t block : {int64_t{50}, int64_t{1024}}) {
    expect_same_bank(greedy_bank(LocalRows::of(x, 0), kept, o, *comm, nullptr, block), want, block);
    expect_same_bank(greedy_bank(LocalRows::of_file(dir / "f.h5", "features", *comm), kept, o,
                                 *comm, nullptr, block),
                     want, block);
  }
  const auto unsorted = tc::testing::error_of([&] {
    greedy_bank(LocalRows::of(x, 0), torch::tensor({5, 2}, torch::kInt64), o, *comm);
  });
  EXPECT_NE(unsorted.find("ascending"), std::string::npos) << unsorted;
  const auto outside = tc::testing::error_of([&] {
    greedy_bank(LocalRows::of(x, 0), torch::tensor({5, 600}, torch::kInt64), o, *comm);
  });
  EXPECT_NE(outside.find("outside the 600 rows"), std::string::npos) << outside;
}

TEST(GreedyBank, FileErrorsNameTheFileAndDataset) {
  tc::testing::TempDir dir;
  write_features(dir / "f.h5", 10, 4);
  auto comm = tc::dist::make_self_comm();
  const auto flat = tc::testing::error_of([&] { LocalRows::of_file(dir / "f.h5", "flat", *comm); });
  EXPECT_NE(flat.find("f.h5"), std::string::npos) << flat;
  EXPECT_NE(flat.find("/flat must be [rows, dim]"), std::string::npos) << flat;
  const auto missing =
      tc::testing::error_of([&] { LocalRows::of_file(dir / "none.h5", "features", *comm); });
  EXPECT_NE(missing.find("none.h5"), std::string::npos) << missing;
}

TEST(GreedyBank, RowsWhoseDistancesOverflowFloat32AreAnError) {
  auto comm = tc::dist::make_self_comm();
  // Finite rows, but squared distances past float32's range: every
  // min-distance would be inf and the picks would follow the row order.
  const auto x = torch::randn({50, 8}) * 1e19;
  const auto e = tc::testing::error_of(
      [&] { greedy_bank(LocalRows::of(x, 0), {}, options(0.1, 0, 0), *comm); });
  EXPECT_NE(e.find("overflow"), std::string::npos) << e;
  EXPECT_NE(e.find("norm"), std::string::npos) << e;
  // Large but safe rows are fine.
  EXPECT_EQ(
      greedy_bank(LocalRows::of(torch::randn({50, 8}) * 1e15, 0), {}, options(0.1, 0, 0), *comm)
          .rows(),
      5);
}
