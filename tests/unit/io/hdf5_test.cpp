#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::io::H5Reader;
using tc::io::H5Writer;

namespace {

TEST(Hdf5, RoundTripsEveryDtypeAndAttributes) {
  tc::testing::TempDir tmp;
  const fs::path p = tmp / "a.h5";
  auto f32 = torch::arange(12, torch::kFloat32).reshape({3, 4}) / 7.0;
  auto f16 = torch::tensor({0.5f, -2.25f, 65504.f}).to(torch::kFloat16);
  auto i64 = torch::tensor({int64_t{-1}, int64_t{1} << 40});
  auto u8 = torch::tensor({0, 1, 255}, torch::kUInt8);
  {
    H5Writer w(p, "features", "abc123");
    w.write("features", f32);
    w.write("half", f16);
    w.write("group/idx", i64);
    w.write("mask", u8);
    w.write_strings("names", {"bottle/train/good/000.png", "ü"});
    w.set_attr("feature_h", int64_t{28});
    w.set_attr("ratio", 0.1);
    w.commit();
  }
  H5Reader r(p);
  EXPECT_TRUE(torch::equal(r.read("features"), f32));
  EXPECT_TRUE(torch::equal(r.read("half"), f16));
  EXPECT_TRUE(torch::equal(r.read("group/idx"), i64));
  EXPECT_TRUE(torch::equal(r.read("mask"), u8));
  EXPECT_EQ(r.read_strings("names"), (std::vector<std::string>{"bottle/train/good/000.png", "ü"}));
  EXPECT_EQ(r.attr_string("stage"), "features");
  EXPECT_EQ(r.attr_string("config_hash"), "abc123");
  EXPECT_EQ(r.attr_string("tailedcore_version"), TAILEDCORE_VERSION);
  EXPECT_EQ(r.attr_int("feature_h"), 28);
  EXPECT_DOUBLE_EQ(r.attr_double("ratio"), 0.1);
  EXPECT_TRUE(torch::equal(r.read_rows("features", 1, 2), f32.slice(0, 1, 3)));
  EXPECT_FALSE(r.has("missing/thing"));
}

TEST(Hdf5, StreamsRowsAndCastsToTheDatasetType) {
  tc::testing::TempDir tmp;
  H5Writer w(tmp / "s.h5", "features", "");
  w.create("x", tc::io::DType::kFloat16, {5, 2});
  auto all = torch::arange(10, torch::kFloat32).reshape({5, 2});
  w.write_rows("x", 0, all.slice(0, 0, 3));
  w.write_rows("x", 3, all.slice(0, 3, 5));
  EXPECT_THROW(w.write_rows("x", 4, all.slice(0, 0, 2)), tc::Error);
  w.commit();
  H5Reader r(tmp / "s.h5");
  EXPECT_EQ(r.dtype("x"), tc::io::DType::kFloat16);
  EXPECT_TRUE(torch::equal(r.read("x").to(torch::kFloat32), all));
}

TEST(Hdf5, UncommittedWriterLeavesNothing) {
  tc::testing::TempDir tmp;
  {
    H5Writer w(tmp / "partial.h5", "coreset", "");
    w.write("coreset_indices", torch::arange(3));
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(Hdf5, ShapeErrorsNameFileAndDataset) {
  tc::testing::TempDir tmp;
  {
    H5Writer w(tmp / "f.h5", "features", "");
    w.write("features", torch::zeros({4, 3}));
    w.commit();
  }
  H5Reader r(tmp / "f.h5");
  EXPECT_NO_THROW(r.expect_shape("features", {-1, 3}));
  try {
    r.expect_shape("features", {-1, 1024});
    FAIL();
  } catch (const tc::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("f.h5"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/features has shape [4, 3]: expected [*, 1024]"), std::string::npos) << msg;
  }
  EXPECT_THROW(H5Reader(tmp / "nope.h5"), tc::Error);
  tc::io::write_text_atomic(tmp / "text.h5", "not hdf5");
  EXPECT_THROW(H5Reader(tmp / "text.h5"), tc::Error);
}

TEST(Files, UnwritableOutputFolderIsAClearError) {
  tc::testing::TempDir tmp;
  tc::io::write_text_atomic(tmp / "file", "x");
  try {
    tc::io::ensure_writable_dir(tmp / "file" / "sub");
    FAIL();
  } catch (const tc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be created"), std::string::npos);
  }
  EXPECT_EQ(tc::io::hash_text("abc"), tc::io::hash_text("abc"));
  EXPECT_NE(tc::io::hash_text("abc"), tc::io::hash_text("abd"));
  auto run = tc::io::create_run_dir(tmp.path(), "mvtec", "patchcore", "r1");
  EXPECT_TRUE(fs::is_directory(run));
}

}  // namespace
