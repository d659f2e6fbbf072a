// The greedy bank built from a feature file block by block equals the one
// built from the rows in memory, whatever the block size.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/sampling/coreset.h"
#include "testing.h"

using tc::models::greedy_bank;
using tc::models::greedy_bank_from_file;

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

void expect_same_bank(const tc::models::MemoryBank& got, const tc::models::MemoryBank& want,
                      int64_t block) {
  EXPECT_TRUE(torch::equal(got.source_rows, want.source_rows)) << "block " << block;
  EXPECT_TRUE(torch::equal(got.features, want.features)) << "block " << block;
}

tc::sampling::CoresetOptions options(double ratio, int64_t proj_dim, uint64_t seed) {
  tc::sampling::CoresetOptions o;
  o.ratio = ratio;
  o.proj_dim = proj_dim;
  o.seed = seed;
  return o;
}

}  // namespace

TEST(GreedyBankFromFile, EqualsTheInMemoryBankForAnyBlockSize) {
  tc::testing::TempDir dir;
  const auto x = write_features(dir / "f.h5", 1000, 64);
  auto comm = tc::dist::make_self_comm();
  auto o = options(0.1, 16, 3);
  const auto want = greedy_bank(x, {}, o, *comm);
  ASSERT_EQ(want.rows(), 100);
  for (int64_t block : {int64_t{1}, int64_t{97}, int64_t{1000}, int64_t{4096}}) {
    expect_same_bank(greedy_bank_from_file(dir / "f.h5", "features", o, *comm, {}, block), want, block);
  }
  // Without a projection the rows are read whole: the same bank again.
  o.proj_dim = 0;
  const auto whole = greedy_bank_from_file(dir / "f.h5", "features", o, *comm, {}, 97);
  EXPECT_TRUE(torch::equal(whole.source_rows, greedy_bank(x, {}, o, *comm).source_rows));
  EXPECT_TRUE(torch::equal(whole.features, x.index_select(0, whole.source_rows)));
}

TEST(GreedyBankFromFile, ASubsetOfRowsEqualsTheBankOfThoseRows) {
  tc::testing::TempDir dir;
  const auto x = write_features(dir / "f.h5", 600, 32);
  auto comm = tc::dist::make_self_comm();
  const auto o = options(0.2, 8, 0);
  const auto kept = torch::arange(0, 600, 3, torch::kInt64);  // e.g. LOF's kept rows
  // What the bank must be: the greedy over the kept rows, mapped back to rows.
  tc::models::MemoryBank want;
  want.source_rows = kept.index_select(0, tc::sampling::greedy_coreset(x.index_select(0, kept), o, *comm));
  want.features = x.index_select(0, want.source_rows);
  for (int64_t block : {int64_t{50}, int64_t{1024}}) {
    expect_same_bank(greedy_bank(x, kept, o, *comm, block), want, block);
    expect_same_bank(greedy_bank_from_file(dir / "f.h5", "features", o, *comm, kept, block), want, block);
  }
  const auto unsorted = tc::testing::error_of(
      [&] { greedy_bank_from_file(dir / "f.h5", "features", o, *comm, torch::tensor({5, 2}, torch::kInt64)); });
  EXPECT_NE(unsorted.find("ascending"), std::string::npos) << unsorted;
  const auto outside = tc::testing::error_of(
      [&] { greedy_bank_from_file(dir / "f.h5", "features", o, *comm, torch::tensor({5, 600}, torch::kInt64)); });
  EXPECT_NE(outside.find("outside its 600 rows"), std::string::npos) << outside;
  EXPECT_NE(outside.find("f.h5 /features"), std::string::npos) << outside;
}

TEST(GreedyBankFromFile, ErrorsNameTheFileAndDataset) {
  tc::testing::TempDir dir;
  write_features(dir / "f.h5", 10, 4);
  auto comm = tc::dist::make_self_comm();
  tc::sampling::CoresetOptions o;
  const auto flat = tc::testing::error_of([&] { greedy_bank_from_file(dir / "f.h5", "flat", o, *comm); });
  EXPECT_NE(flat.find("f.h5"), std::string::npos) << flat;
  EXPECT_NE(flat.find("/flat must be [rows, dim]"), std::string::npos) << flat;
  const auto missing = tc::testing::error_of([&] { greedy_bank_from_file(dir / "none.h5", "features", o, *comm); });
  EXPECT_NE(missing.find("none.h5"), std::string::npos) << missing;
}
