// Faults under HDF5 artifacts: a write that fails for want of room (the file
// size limit, a full tmpfs), shards swapped on disk or missing, sources
// outside the artifact's folder, external raw storage, absurd declared
// shapes, and each rank's share of the cache check.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tailedcore/core/check.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::io::H5Reader;
using tc::io::H5Writer;
using tc::testing::error_of;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool has_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (contains(e.path().filename().string(), ".tmp-")) return true;
  return false;
}

// In a forked child (gtest's death-test machinery): every write past
// `limit` bytes of one file fails with EFBIG, as a full disk fails with
// ENOSPC, through the same calls. SIGXFSZ ignored: the write fails instead
// of the process dying.
void limit_file_size(rlim_t limit) {
  signal(SIGXFSZ, SIG_IGN);
  const rlimit rl{limit, limit};
  setrlimit(RLIMIT_FSIZE, &rl);
}

// The child's verdict on stderr, one line, and its exit code: 0 when the
// writer failed cleanly (the error names the file and the cause, nothing
// under either name is left) and a later file writes fine.
[[noreturn]] void write_past_the_limit(const fs::path& dir, bool fail_in_commit) {
  limit_file_size(256 * 1024);
  const fs::path p = dir / "features.h5";
  const std::string e = error_of([&] {
    H5Writer w(p, "features", "k");
    // 2 MB of rows written at once (chunks go to disk in write_rows), or
    // one 256 KB chunk in small blocks: HDF5's chunk cache keeps it until
    // the flush of commit().
    const int64_t n = fail_in_commit ? 1024 : 8192;
    w.create("features", tc::io::DType::kFloat32, {n, 64});
    const auto rows = torch::ones({fail_in_commit ? 64 : n, 64});
    for (int64_t r = 0; r < n; r += rows.size(0)) w.write_rows("features", r, rows);
    w.commit();
  });
  std::fprintf(stderr, "error: %s\n", e.c_str());
  if (!contains(e, p.string()) || !contains(e, "File too large (EFBIG)") ||
      !contains(e, "is the disk full?"))
    std::_Exit(2);
  if (fs::exists(p) || has_temporaries(dir)) std::_Exit(3);
  H5Writer small(dir / "small.h5", "s", "k");
  small.write("x", torch::arange(4));
  small.commit();
  if (!torch::equal(H5Reader(dir / "small.h5").read("x"), torch::arange(4))) std::_Exit(4);
  std::exit(0);  // through HDF5's own clean-up at exit, where HDF5 1.10 crashed
}

TEST(ArtifactFaults, AWriteThatRunsOutOfRoomFailsCleanlyNamingTheFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  tc::testing::TempDir tmp;
  EXPECT_EXIT(write_past_the_limit(tmp.path(), false), ::testing::ExitedWithCode(0),
              "File too large");
  EXPECT_EXIT(write_past_the_limit(tmp.path(), true), ::testing::ExitedWithCode(0),
              "File too large");
}

// The same on a real full file system, where mounting is allowed (root with
// CAP_SYS_ADMIN); the file size limit above runs everywhere.
TEST(ArtifactFaults, AFullDiskIsAnErrorSayingSo) {
  tc::testing::TempDir tmp;
  const fs::path mnt = tmp / "small_disk";
  fs::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=512k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  std::string e;
  {
    e = error_of([&] {
      H5Writer w(mnt / "scores.h5", "scores", "k");
      w.write("maps", torch::ones({1024, 1024}));
      w.commit();
    });
  }
  const bool left = fs::exists(mnt / "scores.h5") || has_temporaries(mnt);
  umount(mnt.c_str());
  EXPECT_TRUE(contains(e, (mnt / "scores.h5").string())) << e;
  EXPECT_TRUE(contains(e, "No space left on device (ENOSPC)")) << e;
  EXPECT_TRUE(contains(e, "is the disk full?")) << e;
  EXPECT_FALSE(left);
}

// ------------------------------------------------------------ integrity ----

// `ranks` shards of [rows, 3] float32 (shard r holds the value r) with the
// attributes pipeline/feature_shards.cpp writes, and features.h5 virtual over them.
fs::path sharded_artifact(const fs::path& dir, int ranks, int64_t rows = 4) {
  const fs::path art = dir / "features.h5";
  std::vector<tc::io::VirtualPiece> pieces;
  for (int r = 0; r < ranks; ++r) {
    const std::string name =
        "features.shard-" + std::to_string(r) + "-of-" + std::to_string(ranks) + ".h5";
    H5Writer s(dir / name, "features_shard", "key");
    s.write("features", torch::full({rows, 3}, static_cast<float>(r)));
    s.set_attr("shard", int64_t{r});
    s.set_attr("shards", int64_t{ranks});
    s.commit();
    pieces.push_back({name, "features", 0, rows, r * rows});
  }
  H5Writer w(dir / "staging.h5", "features", "key");
  w.write("embeddings", torch::zeros({2, 2}));
  w.set_attr("shards", int64_t{ranks});
  w.commit();
  tc::io::add_virtual_rows(dir / "staging.h5", "features", tc::io::DType::kFloat32,
                           {ranks * rows, 3}, pieces);
  fs::rename(dir / "staging.h5", art);
  return art;
}

TEST(ArtifactFaults, ShardsSwappedOnDiskAreRefusedByEveryReader) {
  tc::testing::TempDir tmp;
  const auto art = sharded_artifact(tmp.path(), 3);
  EXPECT_TRUE(
      torch::equal(H5Reader(art).read("features").select(1, 0),
                   torch::tensor({0.f, 0.f, 0.f, 0.f, 1.f, 1.f, 1.f, 1.f, 2.f, 2.f, 2.f, 2.f})));
  fs::rename(tmp / "features.shard-0-of-3.h5", tmp / "x.h5");
  fs::rename(tmp / "features.shard-1-of-3.h5", tmp / "features.shard-0-of-3.h5");
  fs::rename(tmp / "x.h5", tmp / "features.shard-1-of-3.h5");
  const std::string e = error_of([&] { H5Reader(art).read("features"); });
  EXPECT_TRUE(contains(e, (tmp / "features.shard-0-of-3.h5").string() +
                              " records shard 1 of 3: expected shard 0 of 3"))
      << e;
  EXPECT_FALSE(error_of([&] { tc::io::check_virtual_sources(art); }).empty());
}

TEST(ArtifactFaults, AShardOfAnotherRankCountOrKeyIsRefused) {
  tc::testing::TempDir tmp;
  const auto art = sharded_artifact(tmp.path(), 2);
  {
    H5Writer s(tmp / "features.shard-1-of-2.h5", "features_shard", "other-key");
    s.write("features", torch::ones({4, 3}));
    s.set_attr("shard", int64_t{1});
    s.set_attr("shards", int64_t{2});
    s.commit();
  }
  std::string e = error_of([&] { H5Reader(art).read_rows("features", 0, 1); });
  EXPECT_TRUE(contains(
      e, "was made with another config or other inputs (config_hash other-key, expected key)"))
      << e;
  {
    H5Writer s(tmp / "features.shard-1-of-2.h5", "features_shard", "key");
    s.write("features", torch::ones({4, 3}));
    s.set_attr("shard", int64_t{1});
    s.set_attr("shards", int64_t{3});
    s.commit();
  }
  e = error_of([&] { H5Reader(art).read_rows("features", 0, 1); });
  EXPECT_TRUE(contains(e, "records shard 1 of 3: expected shard 1 of 2")) << e;
}

TEST(ArtifactFaults, AMissingShardIsAnErrorNotFillValues) {
  tc::testing::TempDir tmp;
  const auto art = sharded_artifact(tmp.path(), 2);
  fs::remove(tmp / "features.shard-1-of-2.h5");
  // Even the rows of the shard still there: the artifact is incomplete.
  const std::string e = error_of([&] { H5Reader(art).read_rows("features", 0, 2); });
  EXPECT_TRUE(contains(e, (tmp / "features.shard-1-of-2.h5").string() + ", which does not exist"))
      << e;
}

// A virtual dataset made with the C API: its one source named `source`.
void virtual_over(const fs::path& file, const std::string& source) {
  const hsize_t dims[2] = {4, 3};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_virtual(dcpl, space, source.c_str(), "features", space);
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t ds = H5Dcreate2(f, "features", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Dclose(ds);
  H5Fclose(f);
  H5Pclose(dcpl);
  H5Sclose(space);
}

TEST(ArtifactFaults, SourcesOutsideTheArtifactsFolderAreRefused) {
  tc::testing::TempDir tmp;
  fs::create_directories(tmp / "run");
  {
    H5Writer s(tmp / "elsewhere.h5", "x", "");
    s.write("features", torch::ones({4, 3}));
    s.commit();
  }
  virtual_over(tmp / "run" / "absolute.h5", (tmp / "elsewhere.h5").string());
  std::string e = error_of([&] { H5Reader(tmp / "run" / "absolute.h5").read("features"); });
  EXPECT_TRUE(contains(e, "expected a file inside the artifact's folder")) << e;
  virtual_over(tmp / "run" / "up.h5", "../elsewhere.h5");
  e = error_of([&] { H5Reader(tmp / "run" / "up.h5").read("features"); });
  EXPECT_TRUE(
      contains(e, "reads rows from ../elsewhere.h5: expected a file inside the artifact's folder"))
      << e;
  fs::copy_file(tmp / "elsewhere.h5", tmp / "run" / "beside.h5");
  virtual_over(tmp / "run" / "fine.h5", "beside.h5");
  EXPECT_TRUE(
      torch::equal(H5Reader(tmp / "run" / "fine.h5").read("features"), torch::ones({4, 3})));
}

TEST(ArtifactFaults, ExternalRawStorageIsRefused) {
  tc::testing::TempDir tmp;
  const fs::path secret = tmp / "secret.txt";
  std::ofstream(secret) << std::string(48, 'S');
  const fs::path p = tmp / "external.h5";
  {
    const hsize_t dims[2] = {4, 3};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, secret.c_str(), 0, 48);
    const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(H5Dcreate2(f, "features", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Fclose(f);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  const std::string e = error_of([&] { H5Reader(p).read("features"); });
  EXPECT_TRUE(contains(e, "/features keeps its values in 1 external file(s) (" + secret.string()))
      << e;
  EXPECT_FALSE(error_of([&] { tc::io::check_virtual_sources(p); }).empty());
}

TEST(ArtifactFaults, AHugeDeclaredShapeIsOneLineNamingIt) {
  tc::testing::TempDir tmp;
  {
    H5Writer w(tmp / "huge.h5", "x", "");
    // No chunk written: tiny files, whatever they declare.
    w.create("features", tc::io::DType::kFloat32, {1000000000000000, 4});
    w.create("wide", tc::io::DType::kFloat32, {100000000, 65536});
    w.commit();
  }
  const H5Reader r(tmp / "huge.h5");
  // More rows than any reader could keep an index for: refused at the shape.
  std::string e = error_of([&] { r.read("features"); });
  EXPECT_TRUE(
      contains(e, (tmp / "huge.h5").string() +
                      ": dataset /features declares shape [1000000000000000, 4]: more rows"))
      << e;
  EXPECT_FALSE(contains(e, "\n")) << e;
  // Rows that could be indexed but not read whole: refused at the read, a
  // block of them still reads.
  e = error_of([&] { r.read("wide"); });
  EXPECT_TRUE(contains(
      e, ": dataset /wide declares shape [100000000, 65536] (float32): reading 100000000 rows"))
      << e;
  EXPECT_TRUE(contains(e, "of memory: expected a dataset that fits")) << e;
  EXPECT_EQ(r.read_rows("wide", 5, 2).size(0), 2);
}

// Writes junk over the first chunk of `dataset`: the file still opens, and
// only a read of that chunk fails (its Fletcher-32 checksum).
void damage_first_chunk(const fs::path& file, const std::string& dataset) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  const hid_t space = H5Dget_space(ds);
  hsize_t offset[2];
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  ASSERT_GE(H5Dget_chunk_info(ds, space, 0, offset, &mask, &addr, &size), 0);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(addr));
  const std::string junk(size / 2, '\x5a');
  out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

TEST(ArtifactFaults, EachRankVerifiesItsShareAndTheSharesCoverEverything) {
  tc::testing::TempDir tmp;
  const auto art = sharded_artifact(tmp.path(), 3);
  for (int r = 0; r < 3; ++r) EXPECT_NO_THROW(tc::io::verify_share(art, r, 3));
  damage_first_chunk(tmp / "features.shard-1-of-3.h5", "features");
  // Three ranks: only shard 1's own rank reads it.
  for (int r = 0; r < 3; ++r)
    EXPECT_EQ(error_of([&] { tc::io::verify_share(art, r, 3); }).empty(), r != 1) << r;
  EXPECT_TRUE(
      contains(error_of([&] { tc::io::verify_share(art, 1, 3); }), "features.shard-1-of-3.h5"));
  // Other rank counts: exactly one rank reads the damaged shard.
  for (int ranks : {1, 2, 4}) {
    int failed = 0;
    for (int r = 0; r < ranks; ++r)
      failed += !error_of([&] { tc::io::verify_share(art, r, ranks); }).empty();
    EXPECT_EQ(failed, 1) << ranks << " ranks";
  }
}

}  // namespace
