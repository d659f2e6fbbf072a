// The shared rules for what users and files hand us: folder names and
// relative paths (core/paths.h), CSV fields (core/csv.h), thread counts
// (core/runtime.h).
#include <gtest/gtest.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/core/runtime.h"
#include "testing.h"

using tc::testing::error_of;

namespace {

TEST(Paths, FolderNamesAreOneLevel) {
  for (const char* ok : {"seed0", "a b", "...", ".hidden", "a,b"})
    EXPECT_NO_THROW(tc::core::check_folder_name(ok, "--run-id")) << ok;
  for (const char* bad : {"", ".", "..", "a/b", "/abs", "a\\b"})
    EXPECT_NE(error_of([&] {
                tc::core::check_folder_name(bad, "--run-id");
              }).find("--run-id '" + std::string(bad) + "' is not a folder name"),
              std::string::npos)
        << bad;
}

TEST(Paths, RelativePathsStayInsideTheirRoot) {
  EXPECT_EQ(tc::core::checked_relative_path("a/train/good/0.png", "m:1"), "a/train/good/0.png");
  for (const auto& [rel, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "m:1: empty path"},
           {"/etc/passwd", "m:1: '/etc/passwd' is absolute"},
           {"../x", "m:1: '../x' has the part '..'"},
           {"a/../../x", "has the part '..'"},
           {"a/./b", "has the part '.'"},
           {"a//b", "has the part ''"},
           {"a/", "has the part ''"},
           {"a\\..\\b", "has a '\\'"}}) {
    const auto e = error_of([&] { tc::core::checked_relative_path(rel, "m:1"); });
    EXPECT_NE(e.find(why), std::string::npos) << rel << ": " << e;
    EXPECT_NE(e.find("expected a relative path inside the folder"), std::string::npos) << e;
  }
}

TEST(Csv, FieldsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(tc::core::csv_field("bottle"), "bottle");
  EXPECT_EQ(tc::core::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(tc::core::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(tc::core::csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Csv, ParseReadsWhatFieldWrites) {
  const std::vector<std::string> cells = {"a,b", "say \"hi\"", "two\nlines", "", "plain"};
  std::string text = "h1,h2,h3,h4,h5\r\n\n";
  for (size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + tc::core::csv_field(cells[i]);
  text += "\nlast,,,,";
  const auto records = tc::core::parse_csv(text, "f.csv");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].cells, cells);
  EXPECT_EQ(records[1].line, 3);  // the blank line 2 is skipped
  EXPECT_EQ(records[2].line, 5);  // the quoted newline counts
  EXPECT_EQ(records[2].cells, (std::vector<std::string>{"last", "", "", "", ""}));
  EXPECT_NE(error_of([] {
              tc::core::parse_csv("a\n\"open,b\n", "f.csv");
            }).find("f.csv:2: a quoted field has no closing quote"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              tc::core::parse_csv("\"a\"b,c\n", "f.csv");
            }).find("f.csv:1: text after a closing quote"),
            std::string::npos);
}

TEST(Runtime, ThreadCountsOutsideTheRangeAreRefused) {
  EXPECT_EQ(tc::core::check_thread_count(0, "--threads"), 0);
  EXPECT_EQ(tc::core::check_thread_count(tc::core::kMaxThreads, "--threads"),
            tc::core::kMaxThreads);
  for (int bad : {-1, tc::core::kMaxThreads + 1, 100000}) {
    const auto e = error_of([&] { tc::core::set_thread_count(bad); });
    EXPECT_NE(e.find("--threads " + std::to_string(bad) + " is out of range: expected 0 (auto"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("to 1024"), std::string::npos) << e;
  }
  setenv("TAILEDCORE_THREADS", "-2", 1);
  EXPECT_NE(error_of([] {
              tc::core::default_thread_count();
            }).find("TAILEDCORE_THREADS = -2 is out of range"),
            std::string::npos);
  unsetenv("TAILEDCORE_THREADS");
}

}  // namespace
