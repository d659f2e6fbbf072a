#include "tailedcore/io/hdf5.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"
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
}

}  // namespace

namespace {

// Overwrites `bytes` bytes in the middle of a file with a pattern (the issue's
// damaged scores.h5 that still opens).
void damage_middle(const fs::path& p, size_t bytes) {
  const auto size = fs::file_size(p);
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2 - std::min(size / 2, bytes / 2)));
  const std::string junk(std::min<size_t>(bytes, size / 2), '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

// A file damaged inside its data is a one-line tc::Error naming the file
// (Fletcher-32 chunk checksums), never an H5 exception that ends the process.
TEST(Hdf5, DamagedFileThatStillOpensIsAnErrorNamingIt) {
  tc::testing::TempDir tmp;
  const fs::path p = tmp / "scores.h5";
  {
    H5Writer w(p, "scores", "h");
    w.write("bottle/anomaly_maps", torch::rand({40, 64, 64}).to(torch::kFloat16));
    w.write("bottle/image_scores", torch::rand({40}));
    std::vector<std::string> names;
    for (int i = 0; i < 40; ++i) names.push_back("bottle/test/good/" + std::to_string(i) + ".png");
    w.write_strings("bottle/image_paths", names);
    w.commit();
  }
  {
    H5Reader intact(p);
    EXPECT_EQ(intact.datasets(),
              (std::vector<std::string>{"bottle/anomaly_maps", "bottle/image_paths",
                                        "bottle/image_scores"}));
    EXPECT_NO_THROW(intact.verify());
  }
  damage_middle(p, 100 * 1024);
  const auto e = tc::testing::error_of([&] {
    H5Reader r(p);
    r.verify();
  });
  EXPECT_EQ(e.rfind(p.string() + ": HDF5 error reading /bottle/anomaly_maps", 0), 0u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  // Damage in the metadata (the whole second half): still one line naming the file.
  damage_middle(p, 1 << 30);
  const auto m = tc::testing::error_of([&] {
    H5Reader r(p);
    r.verify();
  });
  EXPECT_EQ(m.rfind(p.string() + ": ", 0), 0u) << m;
}

// A truncated file, a text file and a folder given as HDF5: one line naming
// the file, what HDF5 found and what was expected.
TEST(Hdf5, TruncatedOrNonHdf5InputIsOneLineNamingIt) {
  tc::testing::TempDir tmp;
  const fs::path whole = tmp / "whole.h5", cut = tmp / "cut.h5", text = tmp / "notes.h5";
  {
    H5Writer w(whole, "features", "h");
    w.write("features", torch::rand({64, 32}));
    w.commit();
  }
  fs::copy_file(whole, cut);
  fs::resize_file(cut, fs::file_size(whole) / 2);
  std::ofstream(text) << "not hdf5\n";
  const auto e = tc::testing::error_of([&] { H5Reader r(cut); });
  EXPECT_EQ(e.rfind(cut.string() + ": HDF5 error opening the file (truncated file: eof = ", 0), 0u)
      << e;
  EXPECT_NE(e.find("expected a complete, undamaged HDF5 file"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(tc::testing::error_of([&] { H5Reader r(text); }),
            text.string() + ": not an HDF5 file (no HDF5 signature): expected an HDF5 file");
  EXPECT_EQ(tc::testing::error_of([&] { H5Reader r(tmp.path()); }),
            tmp.path().string() + ": is a folder: expected an HDF5 file");
}

TEST(Hdf5, AttributeOfTheWrongTypeNamesWhatWasExpected) {
  tc::testing::TempDir tmp;
  const fs::path p = tmp / "a.h5";
  {
    H5Writer w(p, "features", "h");
    w.write("features", torch::rand({4, 2}));
    w.set_attr("feature_h", std::string("three"));
    w.set_attr("scale", int64_t{3}, "features");
    w.commit();
  }
  H5Reader r(p);
  EXPECT_EQ(tc::testing::error_of([&] { r.attr_int("feature_h"); }),
            p.string() + ": attribute 'feature_h' is a string: expected an integer");
  EXPECT_EQ(tc::testing::error_of([&] { r.attr_string("scale", "features"); }),
            p.string() + ": attribute 'scale' of /features is an integer: expected a string");
  EXPECT_EQ(r.attr_double("scale", "features"), 3.0);  // an integer is a number
  EXPECT_EQ(tc::testing::error_of([&] { r.attr_int("feature_w"); }),
            p.string() + ": attribute 'feature_w' is missing");
}

}  // namespace
