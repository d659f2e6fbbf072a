// Paths of data-set commands and runs: one spelling per folder, and a
// destination never inside, equal to, or above its source.
#include "tailedcore/io/files.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing.h"

namespace fs = std::filesystem;

namespace {

TEST(Files, CanonicalPathHasOneSpellingPerFolder) {
  tc::testing::TempDir tmp;
  fs::create_directories(tmp / "data" / "v1");
  fs::create_directory_symlink(tmp / "data" / "v1", tmp / "link");
  const auto want = tc::io::canonical_path(tmp / "data" / "v1");
  EXPECT_EQ(want.filename(), "v1");
  EXPECT_EQ(tc::io::canonical_path((tmp / "data" / "v1").string() + "/"), want);
  EXPECT_EQ(tc::io::canonical_path(tmp / "data" / "." / "v1" / ".." / "v1"), want);
  EXPECT_EQ(tc::io::canonical_path(tmp / "link"), want);
  EXPECT_EQ(tc::io::canonical_path(tmp / "data" / "absent" / ""),
            tc::io::canonical_path(tmp / "data") / "absent");
}

TEST(Files, DestinationMustLieOutsideTheSource) {
  tc::testing::TempDir tmp;
  fs::create_directories(tmp / "src");
  const auto src = tmp / "src";
  using tc::testing::error_of;
  const auto check = [&](const fs::path& dest) {
    return error_of([&] { tc::io::check_dest_apart_from_source(src, dest); });
  };
  EXPECT_NE(check(src).find("is the source"), std::string::npos);
  EXPECT_NE(check(src.string() + "/").find("is the source"), std::string::npos);
  EXPECT_NE(check(src / ".." / "src").find("is the source"), std::string::npos);
  EXPECT_NE(check(src / "variant").find("is inside the source"), std::string::npos);
  EXPECT_NE(check(tmp.path()).find("holds the source"), std::string::npos);
  EXPECT_EQ(check(tmp / "src-variant"), "");
  EXPECT_EQ(check(tmp / "other" / "src"), "");
}

}  // namespace

namespace {

// The file digest (cache keys, weights): every byte counts, in the word lanes
// of a second 1 MiB block and in the tail after the last whole 32-byte group,
// and so does the length (trailing zeros are not the same file).
TEST(Files, HashFileSeesEveryByteAndTheLength) {
  tc::testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.path() / name, std::ios::binary) << bytes;
    return tc::io::hash_file(dir.path() / name);
  };
  std::string bytes((1 << 20) + 1000 + 5, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131 + 7) % 251);
  const std::string base = write("base", bytes);
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(write("same", bytes), base);
  for (const size_t at : {size_t{0}, size_t{(1 << 20) + 8}, bytes.size() - 2}) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 1);
    EXPECT_NE(write("changed", changed), base) << "byte " << at;
  }
  EXPECT_NE(write("longer", bytes + std::string(3, '\0')), base);
  EXPECT_NE(write("empty", ""), write("zero", std::string(1, '\0')));
}

}  // namespace
