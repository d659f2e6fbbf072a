// The manifest generator (SPEC 1.4's recipe) and `build_nlt_variant`.
#include "tailedcore/datasets/nlt_recipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "data_trees.h"
#include "tailedcore/core/check.h"
#include "tailedcore/datasets/nlt.h"
#include "tailedcore/io/files.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::datasets::ClassCounts;
using tc::datasets::draw_nlt_manifests;
using tc::datasets::NltManifests;
using tc::datasets::NltRecipe;
using tc::testing::error_of;
using tc::testing::ScratchDir;
using tc::testing::touch;
using tc::testing::zero_pad;

namespace {

// <root>/<name>/train/good/000.png.., test/good/000.png, test/<defect>/000.png..
// with masks; placeholder images (a PNG header only).
void make_class(const fs::path& root, const std::string& name, int n_good,
                const std::vector<std::pair<std::string, int>>& defects) {
  for (int i = 0; i < n_good; ++i)
    tc::testing::touch_image(root / name / "train" / "good" / (zero_pad(i, 3) + ".png"));
  tc::testing::touch_image(root / name / "test" / "good" / "000.png");
  for (const auto& [defect, n] : defects)
    for (int i = 0; i < n; ++i) {
      tc::testing::touch_image(root / name / "test" / defect / (zero_pad(i, 3) + ".png"));
      tc::testing::touch_image(root / name / "ground_truth" / defect /
                               (zero_pad(i, 3) + "_mask.png"));
    }
}

std::map<std::string, int> per_class(const std::vector<std::string>& lines) {
  std::map<std::string, int> out;
  for (const auto& l : lines) ++out[l.substr(0, l.find('/'))];
  return out;
}

// Manifest lines agree with the counts: N_good - kept pruned, injected lines per class.
void expect_consistent(const NltManifests& m, const std::map<std::string, int>& n_good) {
  const auto pruned = per_class(m.prune_good), injected = per_class(m.inject_defects);
  for (const auto& c : m.counts) {
    EXPECT_EQ(n_good.at(c.class_name) - c.good_kept,
              pruned.count(c.class_name) ? pruned.at(c.class_name) : 0)
        << c.class_name;
    EXPECT_EQ(c.defects_injected, injected.count(c.class_name) ? injected.at(c.class_name) : 0)
        << c.class_name;
  }
  EXPECT_TRUE(std::is_sorted(m.prune_good.begin(), m.prune_good.end()));
  EXPECT_TRUE(std::is_sorted(m.inject_defects.begin(), m.inject_defects.end()));
  EXPECT_EQ(std::set<std::string>(m.prune_good.begin(), m.prune_good.end()).size(),
            m.prune_good.size());
  EXPECT_EQ(std::set<std::string>(m.inject_defects.begin(), m.inject_defects.end()).size(),
            m.inject_defects.size());
}

TEST(NltRecipe, ParetoPmfScaledTo264GivesTheMvtecSeed01Sizes) {
  // SPEC 1.5, MVTec pareto s01: grid (264 images) got the largest pmf; the
  // other kept counts are 160, 100, 65, 43, 29, 20, 14, 10, 7 and 5 x 5
  // (the last four of round(pmf * factor) = 5, 4, 3, 2, 2 clipped up to 5).
  const auto pmf = tc::datasets::discrete_pareto_pmf(6.0, 15, 0.01);
  ASSERT_EQ(pmf.size(), 15u);
  EXPECT_TRUE(std::is_sorted(pmf.rbegin(), pmf.rend()));
  double sum = 0;
  for (double p : pmf) sum += p;
  EXPECT_NEAR(sum, 0.98, 1e-12);  // cdf(ppf(0.99)) - cdf(ppf(0.01))
  std::vector<int64_t> scaled;
  for (double p : pmf) scaled.push_back(std::llround(p * 264.0 / pmf[0]));
  EXPECT_EQ(scaled,
            (std::vector<int64_t>{264, 160, 100, 65, 43, 29, 20, 14, 10, 7, 5, 4, 3, 2, 2}));
  // One bin holds everything the support holds.
  EXPECT_NEAR(tc::datasets::discrete_pareto_pmf(6.0, 1, 0.01)[0], 0.98, 1e-12);
}

TEST(NltRecipe, ParetoOnEqualClassesReproducesTheSeed01Sizes) {
  ScratchDir tmp;
  std::map<std::string, int> n_good;
  for (int c = 0; c < 15; ++c) {
    const std::string name = "class" + zero_pad(c, 2);
    make_class(tmp / "src", name, 264, {{"dent", 20}, {"scratch_deep", 20}});
    n_good[name] = 264;
  }
  for (uint64_t seed : {0, 1, 2}) {
    NltRecipe r;
    r.profile = "pareto";
    r.noise_ratio = 0.1;
    r.seed = seed;
    const auto m = draw_nlt_manifests(tmp / "src", r);
    ASSERT_EQ(m.counts.size(), 15u);
    std::vector<int64_t> kept;
    int64_t noise = 0, total = 0;
    for (const auto& c : m.counts) {
      kept.push_back(c.good_kept);
      total += c.good_kept;
      noise += c.defects_injected;
      // Noise only into classes that keep >= 20 images, at most their 40 defects.
      if (c.good_kept < 20) EXPECT_EQ(c.defects_injected, 0) << c.class_name;
      EXPECT_LE(c.defects_injected, 40);
    }
    std::sort(kept.rbegin(), kept.rend());
    EXPECT_EQ(kept,
              (std::vector<int64_t>{264, 160, 100, 65, 43, 29, 20, 14, 10, 7, 5, 5, 5, 5, 5}));
    EXPECT_EQ(total, 737);  // as MVTec pareto s01
    EXPECT_EQ(noise, 74);   // round(0.1 * 737), as MVTec pareto s01
    expect_consistent(m, n_good);
    // Injected names resolve to <defect>_<file> of the class's test folders.
    for (const auto& line : m.inject_defects) {
      const std::string file = fs::path(line).filename().string();
      EXPECT_TRUE(file.rfind("dent_", 0) == 0 || file.rfind("scratch_deep_", 0) == 0) << line;
    }
  }
}

TEST(NltRecipe, StepKeepsKInTailClassesAndInjectsIntoHeadClasses) {
  ScratchDir tmp;
  // N_good and #defects per class; noise of a head class = min(#defects, round(0.1 N)),
  // with Python's half-to-even rounding: round(2.5) = 2 for N = 25.
  const std::map<std::string, std::pair<int, int>> spec = {
      {"a", {10, 3}}, {"b", {25, 3}}, {"c", {30, 3}}, {"d", {40, 3}}, {"e", {50, 2}}};
  std::map<std::string, int> n_good;
  for (const auto& [name, nd] : spec) {
    make_class(tmp / "src", name, nd.first, {{"hole", nd.second}});
    n_good[name] = nd.first;
  }
  const std::map<std::string, int64_t> head_noise = {
      {"a", 1}, {"b", 2}, {"c", 3}, {"d", 3}, {"e", 2}};
  std::set<std::set<std::string>> tail_sets;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    NltRecipe r;
    r.profile = "step";
    r.tail_images = 2;
    r.noise_ratio = 0.1;
    r.seed = seed;
    const auto m = draw_nlt_manifests(tmp / "src", r);
    std::set<std::string> tails;
    for (const auto& c : m.counts) {
      if (c.good_kept == 2) {
        tails.insert(c.class_name);
        EXPECT_EQ(c.defects_injected, 0) << c.class_name;
      } else {
        EXPECT_EQ(c.good_kept, n_good.at(c.class_name)) << c.class_name;
        EXPECT_EQ(c.defects_injected, head_noise.at(c.class_name)) << c.class_name;
      }
    }
    EXPECT_EQ(tails.size(), 3u);  // round(0.6 * 5)
    tail_sets.insert(tails);
    expect_consistent(m, n_good);
  }
  EXPECT_GT(tail_sets.size(), 1u);  // the tail classes are drawn, not fixed
}

TEST(NltRecipe, SameSeedSameManifestsOtherSeedOthers) {
  ScratchDir tmp;
  for (const char* name : {"p", "q", "r", "s", "t", "u"})
    make_class(tmp / "src", name, 30, {{"crack", 6}});
  for (const char* profile : {"pareto", "step"}) {
    NltRecipe r;
    r.profile = profile;
    r.seed = 42;
    const auto a = draw_nlt_manifests(tmp / "src", r), b = draw_nlt_manifests(tmp / "src", r);
    EXPECT_EQ(a.prune_good, b.prune_good) << profile;
    EXPECT_EQ(a.inject_defects, b.inject_defects) << profile;
    r.seed = 43;
    const auto c = draw_nlt_manifests(tmp / "src", r);
    EXPECT_TRUE(c.prune_good != a.prune_good || c.inject_defects != a.inject_defects) << profile;
  }
}

TEST(NltRecipe, BuildWritesTheVariantAndItsManifests) {
  ScratchDir tmp;
  std::map<std::string, int> n_good;
  for (const char* name : {"p", "q", "r", "s", "t"}) {
    make_class(tmp / "src", name, 40, {{"crack", 5}, {"crack_big", 5}});
    n_good[name] = 40;
  }
  NltRecipe r;
  r.profile = "step";
  r.tail_images = 4;
  r.seed = 5;
  const auto m = tc::datasets::build_nlt_variant(tmp / "src", tmp / "out", r);
  // Files on disk agree with the counts.
  const auto counts = tc::testing::train_counts(tmp / "out");
  ASSERT_EQ(counts.size(), 5u);  // the manifest folder is not a class
  for (const auto& c : m.counts)
    EXPECT_EQ(counts.at(c.class_name), std::make_pair(int(c.good_kept), int(c.defects_injected)))
        << c.class_name;
  // The written manifests: official format (no final newline), readable by apply.
  const std::string prune = tc::io::read_text(tmp / "out" / "manifest" / "prune_good.txt");
  ASSERT_FALSE(prune.empty());
  EXPECT_NE(prune.back(), '\n');
  EXPECT_EQ(tc::datasets::read_manifest(tmp / "out" / "manifest" / "prune_good.txt"), m.prune_good);
  EXPECT_EQ(tc::datasets::read_manifest(tmp / "out" / "manifest" / "inject_defects.txt"),
            m.inject_defects);
  EXPECT_EQ(tc::io::read_text(tmp / "out" / "manifest" / "counts.csv"),
            tc::datasets::nlt_counts_csv(m.counts));
  EXPECT_EQ(tc::datasets::nlt_counts_csv({{"p", 4, 0}, {"q", 40, 4}}),
            "class,good_kept,defects_injected,total\np,4,0,4\nq,40,4,44\n");
  // Applying the written manifests again gives the same tree.
  tc::datasets::apply_nlt(tmp / "src", tmp / "again", tmp / "out" / "manifest" / "prune_good.txt",
                          tmp / "out" / "manifest" / "inject_defects.txt");
  EXPECT_EQ(tc::testing::train_counts(tmp / "again"), counts);
  // The test sets are untouched: 1 good + 10 defects per class.
  EXPECT_EQ(tc::testing::count_files_below(tmp / "out" / "p" / "test"), 11);
  // Only dest and the replayed tree were left next to the source.
  std::set<std::string> siblings;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    siblings.insert(e.path().filename().string());
  EXPECT_EQ(siblings, (std::set<std::string>{"again", "out", "src"}));
}

TEST(NltRecipe, MakeNltIsBuildNltVariantWithTheCliOptions) {
  ScratchDir tmp;
  for (const char* name : {"p", "q", "r", "s", "t"})
    make_class(tmp / "src", name, 40, {{"crack", 5}});
  tc::datasets::NltMakeOptions o;
  o.profile = "step";
  o.tail_classes_keep = 4;
  o.noise_ratio = 0.1;
  o.seed = 11;
  const auto counts = tc::datasets::make_nlt(tmp / "src", tmp / "out", o);
  NltRecipe r;
  r.profile = "step";
  r.tail_images = 4;
  r.noise_ratio = 0.1;
  r.seed = 11;
  const auto m = draw_nlt_manifests(tmp / "src", r);
  EXPECT_EQ(tc::datasets::nlt_counts_csv(counts), tc::datasets::nlt_counts_csv(m.counts));
  EXPECT_EQ(tc::datasets::read_manifest(tmp / "out" / "manifest" / "prune_good.txt"), m.prune_good);
  EXPECT_FALSE(fs::exists(tmp.path() / "out.manifest"));
}

TEST(NltRecipe, BadInputIsReportedAndLeavesNothing) {
  ScratchDir tmp;
  make_class(tmp / "src", "big", 40, {{"crack", 5}});
  make_class(tmp / "src", "small", 3, {{"crack", 5}});
  NltRecipe r;
  r.profile = "zipf";
  EXPECT_NE(error_of([&] { draw_nlt_manifests(tmp / "src", r); }).find("expected pareto or step"),
            std::string::npos);
  r.profile = "pareto";
  const auto e = error_of([&] { tc::datasets::build_nlt_variant(tmp / "src", tmp / "out", r); });
  EXPECT_NE(e.find((tmp / "src" / "small" / "train" / "good").string()), std::string::npos) << e;
  EXPECT_NE(e.find("expected at least 5"), std::string::npos) << e;
  r.profile = "step";
  r.noise_ratio = 1.5;
  EXPECT_NE(error_of([&] { draw_nlt_manifests(tmp / "src", r); }).find("--noise-ratio 1.5"),
            std::string::npos);
  r.noise_ratio = 0.1;
  touch(tmp / "out" / "keep.txt");
  EXPECT_NE(error_of([&] {
              tc::datasets::build_nlt_variant(tmp / "src", tmp / "out", r);
            }).find("--force"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(tmp / "out" / "keep.txt"));
  tc::datasets::NltApplyOptions force;
  force.force = true;
  tc::datasets::build_nlt_variant(tmp / "src", tmp / "out", r, force);
  EXPECT_FALSE(fs::exists(tmp / "out" / "keep.txt"));
  EXPECT_TRUE(fs::exists(tmp / "out" / "manifest" / "counts.csv"));
  std::set<std::string> siblings;
  for (const auto& e2 : fs::directory_iterator(tmp.path()))
    siblings.insert(e2.path().filename().string());
  EXPECT_EQ(siblings, (std::set<std::string>{"out", "src"}));
}

}  // namespace
