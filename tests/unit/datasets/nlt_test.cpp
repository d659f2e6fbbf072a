// `apply_nlt` (SPEC 1.4): hand-made trees, bad manifests, and the official
// MVTec / VisA manifests on placeholder trees against SPEC 1.5's counts.
#include "tailedcore/datasets/nlt.h"

#include <gtest/gtest.h>

#include <map>

#include "data_trees.h"
#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::datasets::apply_nlt;
using tc::datasets::NltApplyOptions;
using tc::testing::reference_dir;
using tc::testing::TempDir;
using tc::testing::touch;

namespace {

// Class "a": 4 good images, defects "crack" (2) and "crack_large" (1), the
// latter to check the longest-prefix rule; class "b": 2 good, 1 defect. Every
// file holds its own relative path, so a copy can be traced to its source.
void make_tiny_tree(const fs::path& root) {
  for (const char* rel :
       {"a/train/good/000.png", "a/train/good/001.png", "a/train/good/002.png",
        "a/train/good/003.png", "a/test/good/000.png", "a/test/crack/000.png",
        "a/test/crack/001.png", "a/test/crack_large/000.png", "a/ground_truth/crack/000_mask.png",
        "a/ground_truth/crack/001_mask.png", "a/ground_truth/crack_large/000_mask.png",
        "b/train/good/000.png", "b/train/good/001.png", "b/test/good/000.png",
        "b/test/hole/000.png", "b/ground_truth/hole/000_mask.png",
        // Not part of the MVTec layout: never copied.
        "a/license.txt", "split_csv/1cls.csv"})
    if (fs::path(rel).extension() == ".png")
      tc::testing::touch_image(root / rel, rel);
    else
      touch(root / rel, rel);
}

// A file's content after the placeholder PNG header (the tag make_tiny_tree wrote).
std::string content(const fs::path& p) {
  const auto text = tc::io::read_text(p);
  const auto& h = tc::testing::png_header();
  return text.rfind(h, 0) == 0 ? text.substr(h.size()) : text;
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

using tc::testing::error_of;

// No leftover "<dest>.tmp-*" sibling and no dest.
void expect_nothing_written(const fs::path& dest) {
  EXPECT_FALSE(fs::exists(dest));
  for (const auto& e : fs::directory_iterator(dest.parent_path()))
    EXPECT_EQ(e.path().filename().string().rfind(dest.filename().string() + ".tmp", 0),
              std::string::npos)
        << e.path();
}

struct Tiny {
  TempDir tmp;
  fs::path src = tmp / "src", dest = tmp / "dest", prune = tmp / "prune_good.txt",
           inject = tmp / "inject_defects.txt";
  Tiny() { make_tiny_tree(src); }
  void manifests(const std::string& prune_text, const std::string& inject_text) {
    touch(prune, prune_text);
    touch(inject, inject_text);
  }
};

void expect_tiny_result(const fs::path& src, const fs::path& dest) {
  EXPECT_EQ(listing(dest), (std::vector<std::string>{"a", "b"}));  // split_csv is not a class
  EXPECT_EQ(listing(dest / "a"), (std::vector<std::string>{"ground_truth", "test", "train"}));
  EXPECT_EQ(
      listing(dest / "a/train/good"),
      (std::vector<std::string>{"000.png", "002.png", "crack_001.png", "crack_large_000.png"}));
  // The longest defect folder wins: crack_large/000.png, not crack/large_000.png.
  EXPECT_EQ(content(dest / "a/train/good/crack_large_000.png"), "a/test/crack_large/000.png");
  EXPECT_EQ(content(dest / "a/train/good/crack_001.png"), "a/test/crack/001.png");
  EXPECT_EQ(content(dest / "a/train/good/002.png"), "a/train/good/002.png");
  // The test set is never reduced: injected images stay in it.
  EXPECT_EQ(listing(dest / "a/test/crack"), (std::vector<std::string>{"000.png", "001.png"}));
  EXPECT_EQ(content(dest / "a/ground_truth/crack_large/000_mask.png"),
            "a/ground_truth/crack_large/000_mask.png");
  EXPECT_EQ(listing(dest / "b/train/good"), (std::vector<std::string>{"000.png", "001.png"}));
  EXPECT_EQ(tc::testing::count_files_below(dest),
            16);  // 16 files in the layout, 2 pruned, 2 injected
  // The source is untouched.
  EXPECT_EQ(tc::testing::count_files_below(src), 18);
}

TEST(NltApply, TinyTreeCopiesPrunesAndInjects) {
  Tiny t;
  t.manifests("a/train/good/001.png\na/train/good/003.png",  // official: no final newline
              "a/train/good/crack_large_000.png\na/train/good/crack_001.png");
  apply_nlt(t.src, t.dest, t.prune, t.inject);
  expect_tiny_result(t.src, t.dest);
  EXPECT_FALSE(fs::is_symlink(t.dest / "a/train/good/000.png"));
  expect_nothing_written(t.tmp / "dest2");  // no temporary sibling left behind
}

TEST(NltApply, FinalNewlineAndCrlfAreAccepted) {
  Tiny t;
  t.manifests("a/train/good/001.png\r\na/train/good/003.png\r\n",
              "a/train/good/crack_large_000.png\na/train/good/crack_001.png\n");
  apply_nlt(t.src, t.dest, t.prune, t.inject);
  expect_tiny_result(t.src, t.dest);
  EXPECT_EQ(tc::datasets::read_manifest(t.prune),
            (std::vector<std::string>{"a/train/good/001.png", "a/train/good/003.png"}));
}

TEST(NltApply, SymlinkLinksToTheSourceFiles) {
  Tiny t;
  t.manifests("a/train/good/001.png\na/train/good/003.png",
              "a/train/good/crack_large_000.png\na/train/good/crack_001.png");
  NltApplyOptions o;
  o.symlink = true;
  apply_nlt(t.src, t.dest, t.prune, t.inject, o);
  expect_tiny_result(t.src, t.dest);
  const fs::path link = t.dest / "a/train/good/crack_large_000.png";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::read_symlink(link).is_absolute());
  EXPECT_TRUE(fs::equivalent(link, t.src / "a/test/crack_large/000.png"));
  EXPECT_TRUE(fs::equivalent(t.dest / "b/test/hole/000.png", t.src / "b/test/hole/000.png"));
}

TEST(NltApply, MalformedLineNamesFileLineAndExpectedForm) {
  Tiny t;
  t.manifests("a/train/good/001.png\na/test/good/000.png", "");
  const auto e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.prune.string() + ":2:"), std::string::npos) << e;
  EXPECT_NE(e.find("a/test/good/000.png"), std::string::npos) << e;
  EXPECT_NE(e.find("expected <class>/train/good/<file>"), std::string::npos) << e;
  expect_nothing_written(t.dest);

  t.manifests("a/train/good/001.png", "a/train/good/crack_000.png\n\na/train/good/crack_001.png");
  const auto empty = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(empty.find(t.inject.string() + ":2:"), std::string::npos) << empty;
  expect_nothing_written(t.dest);

  t.manifests("a/good/001.png", "");
  EXPECT_NE(
      error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); }).find(t.prune.string() + ":1:"),
      std::string::npos);
}

TEST(NltApply, PathMissingFromTheSourceIsNamed) {
  Tiny t;
  t.manifests("a/train/good/001.png\na/train/good/999.png", "");
  auto e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.prune.string() + ":2:"), std::string::npos) << e;
  EXPECT_NE(e.find((t.src / "a/train/good/999.png").string()), std::string::npos) << e;
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  expect_nothing_written(t.dest);

  // A defect file that is not in the source's test folder.
  t.manifests("a/train/good/001.png", "a/train/good/crack_000.png\na/train/good/crack_007.png");
  e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.inject.string() + ":2:"), std::string::npos) << e;
  EXPECT_NE(e.find((t.src / "a/test/crack/007.png").string()), std::string::npos) << e;
  expect_nothing_written(t.dest);

  // No defect folder prefixes the injected name.
  t.manifests("a/train/good/001.png", "a/train/good/scratch_000.png");
  e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.inject.string() + ":1:"), std::string::npos) << e;
  EXPECT_NE(e.find("scratch_000.png"), std::string::npos) << e;

  // A class that is not in the source.
  t.manifests("a/train/good/001.png", "zz/train/good/crack_000.png");
  e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find((t.src / "zz/test").string()), std::string::npos) << e;

  // A manifest file that does not exist.
  e = error_of([&] { apply_nlt(t.src, t.dest, t.tmp / "nope.txt", t.inject); });
  EXPECT_NE(e.find((t.tmp / "nope.txt").string()), std::string::npos) << e;
  expect_nothing_written(t.dest);
}

// The rule shared with visa convert (data::source_file): relative paths
// without "." or ".." parts, and an injected file must be a PNG or JPEG.
TEST(NltApply, PathsOutsideTheSourceAndNonImagesAreRefused) {
  Tiny t;
  for (const auto& [line, expected] : std::vector<std::pair<std::string, std::string>>{
           {"/etc/train/good/passwd", "'/etc/train/good/passwd' is absolute"},
           {"../a/train/good/000.png", "has the part '..'"},
           {"a/train/good/..", "has the part '..'"},
           {"a/train/./000.png", "has the part '.'"}}) {
    t.manifests(line, "");
    const auto e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
    EXPECT_NE(e.find(t.prune.string() + ":1: '" + line + "'"), std::string::npos) << e;
    EXPECT_NE(e.find(expected), std::string::npos) << e;
    expect_nothing_written(t.dest);
  }
  touch(t.src / "a/test/crack/002.png", "not an image");
  t.manifests("a/train/good/001.png", "a/train/good/crack_002.png");
  const auto e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.inject.string() + ":1: " + (t.src / "a/test/crack/002.png").string() +
                   " is not an image: expected a PNG or JPEG file"),
            std::string::npos)
      << e;
  expect_nothing_written(t.dest);
}

TEST(NltApply, ExistingDestIsAnErrorUnlessForced) {
  Tiny t;
  t.manifests("a/train/good/001.png\na/train/good/003.png",
              "a/train/good/crack_large_000.png\na/train/good/crack_001.png");
  touch(t.dest / "old.txt", "old");
  const auto e = error_of([&] { apply_nlt(t.src, t.dest, t.prune, t.inject); });
  EXPECT_NE(e.find(t.dest.string()), std::string::npos) << e;
  EXPECT_NE(e.find("--force"), std::string::npos) << e;
  EXPECT_TRUE(fs::exists(t.dest / "old.txt"));
  NltApplyOptions o;
  o.force = true;
  apply_nlt(t.src, t.dest, t.prune, t.inject, o);
  EXPECT_FALSE(fs::exists(t.dest / "old.txt"));
  expect_tiny_result(t.src, t.dest);
}

// ---- the official manifests on placeholder trees (SPEC 1.5) -----------------

using Counts = std::map<std::string, std::pair<int, int>>;  // class -> (good kept, injected)

fs::path manifest_dir(const std::string& data, const std::string& variant, int seed) {
  return reference_dir() / "manifest" / data / variant / ("seed0" + std::to_string(seed));
}

Counts apply_official(const fs::path& source, const fs::path& dest, const fs::path& dir) {
  NltApplyOptions o;
  o.symlink = true;  // cheap; the placeholder files are empty anyway
  apply_nlt(source, dest, dir / "prune_good.txt", dir / "inject_defects.txt", o);
  return tc::testing::train_counts(dest);
}

int total(const Counts& c) {
  int n = 0;
  for (const auto& [_, v] : c) n += v.first + v.second;
  return n;
}

TEST(NltOfficial, MvtecParetoSeed01GivesSpecTable) {
  tc::testing::ScratchDir tmp;
  ASSERT_EQ(tc::testing::make_mvtec_placeholder_tree(reference_dir() / "mvtec_ad_layout.csv",
                                                     tmp / "mvtec"),
            103);
  const Counts got =
      apply_official(tmp / "mvtec", tmp / "pareto01", manifest_dir("mvtecad-nlt", "pareto", 1));
  // SPEC 1.5, column "pareto s01".
  const Counts expected = {
      {"bottle", {5, 0}},        {"cable", {5, 0}},      {"capsule", {5, 0}},
      {"carpet", {160, 20}},     {"grid", {264, 33}},    {"hazelnut", {5, 0}},
      {"leather", {29, 2}},      {"metal_nut", {20, 2}}, {"pill", {43, 3}},
      {"screw", {10, 0}},        {"tile", {65, 4}},      {"toothbrush", {14, 0}},
      {"transistor", {100, 10}}, {"wood", {5, 0}},       {"zipper", {7, 0}}};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(total(got), 811);
  // The test set (1725 images, 1258 masks) is never reduced.
  int test_images = 0, masks = 0;
  for (const auto& [cls, _] : got) {
    test_images += tc::testing::count_files_below(tmp / "pareto01" / cls / "test");
    masks += tc::testing::count_files_below(tmp / "pareto01" / cls / "ground_truth");
  }
  EXPECT_EQ(test_images, 1725);
  EXPECT_EQ(masks, 1258);
}

TEST(NltOfficial, MvtecAllVariantsGiveSpecTotals) {
  tc::testing::ScratchDir tmp;
  tc::testing::make_mvtec_placeholder_tree(reference_dir() / "mvtec_ad_layout.csv", tmp / "mvtec");
  // SPEC 1.5: totals (good + injected) for seeds 01..05.
  const std::map<std::string, std::vector<int>> totals = {
      {"pareto", {811, 659, 648, 979, 860}},
      {"step_k1", {1885, 1639, 1443, 1492, 1862}},
      {"step_k4", {1624, 1526, 1666, 1912, 1797}}};
  for (const auto& [variant, per_seed] : totals) {
    for (int seed = 1; seed <= 5; ++seed) {
      const fs::path dest = tmp / (variant + std::to_string(seed));
      const Counts got =
          apply_official(tmp / "mvtec", dest, manifest_dir("mvtecad-nlt", variant, seed));
      EXPECT_EQ(total(got), per_seed[seed - 1]) << variant << " seed0" << seed;
      if (variant != "pareto") {
        // Step: 9 tail classes keep k images (no noise), 6 head classes keep all.
        const int k = variant == "step_k1" ? 1 : 4;
        int tails = 0;
        for (const auto& [cls, c] : got) tails += (c.first == k && c.second == 0) ? 1 : 0;
        EXPECT_EQ(tails, 9) << variant << " seed0" << seed;
      }
      fs::remove_all(dest);
    }
  }
  // step_k1 s01 per class (SPEC 1.5 table).
  const Counts k1 =
      apply_official(tmp / "mvtec", tmp / "k1", manifest_dir("mvtecad-nlt", "step_k1", 1));
  EXPECT_EQ(k1.at("hazelnut"), std::make_pair(391, 39));
  EXPECT_EQ(k1.at("zipper"), std::make_pair(240, 24));
  EXPECT_EQ(k1.at("bottle"), std::make_pair(1, 0));
}

TEST(NltOfficial, VisaSeed01GivesSpecCounts) {
  tc::testing::ScratchDir tmp;
  ASSERT_EQ(tc::testing::make_visa_placeholder_tree(reference_dir() / "visa_split_csv" / "1cls.csv",
                                                    tmp / "visa"),
            10821);
  const Counts got =
      apply_official(tmp / "visa", tmp / "pareto01", manifest_dir("visa-nlt", "pareto", 1));
  // SPEC 1.5: "candle 276+14, capsules 13, ..., pipe_fryum 7 (2071+104=2175)".
  const Counts expected = {{"candle", {276, 14}},  {"capsules", {13, 0}}, {"cashew", {450, 26}},
                           {"chewinggum", {9, 0}}, {"fryum", {19, 0}},    {"macaroni1", {900, 43}},
                           {"macaroni2", {28, 1}}, {"pcb1", {100, 5}},    {"pcb2", {163, 10}},
                           {"pcb3", {64, 4}},      {"pcb4", {42, 1}},     {"pipe_fryum", {7, 0}}};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(total(got), 2175);
  int test_images = 0;
  for (const auto& [cls, _] : got)
    test_images += tc::testing::count_files_below(tmp / "pareto01" / cls / "test");
  EXPECT_EQ(test_images, 2162);  // SPEC 1.4: VisA test set unchanged
  // SPEC 1.5 totals of the step variants, seed01 (7 tail / 5 head classes).
  EXPECT_EQ(total(apply_official(tmp / "visa", tmp / "k1", manifest_dir("visa-nlt", "step_k1", 1))),
            4269);
  EXPECT_EQ(total(apply_official(tmp / "visa", tmp / "k4", manifest_dir("visa-nlt", "step_k4", 1))),
            4290);
}

}  // namespace
