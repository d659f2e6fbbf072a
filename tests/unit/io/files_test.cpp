// Paths of data-set commands and runs: one spelling per folder, and a
// destination never inside, equal to, or above its source.
#include <gtest/gtest.h>

#include "tailedcore/io/files.h"
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
  EXPECT_EQ(tc::io::canonical_path(tmp / "data" / "absent" / ""), tc::io::canonical_path(tmp / "data") / "absent");
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
