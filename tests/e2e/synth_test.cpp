// `tailedcore synth`: the mvtec layout against MVTec AD's reference table and the
// official noisy-long-tail manifests, determinism of the files, and bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "tailedcore/data/catalog.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::reference_dir;
using tc::testing::run_cli;
using tc::testing::TempDir;

namespace {

int count_files(const fs::path& dir) {
  if (!fs::is_directory(dir)) return -1;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

std::map<std::string, std::string> tree_bytes(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out[fs::relative(e.path(), root).string()] =
        std::string(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

// The manifests have no trailing newline (SPEC 1.4): split on newlines.
std::vector<std::string> manifest_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

}  // namespace

TEST(SynthCli, MvtecLayoutMatchesTheReferenceTableAndManifests) {
  TempDir tmp;
  const auto a = run_cli("synth --layout mvtec --size 32 --seed 3 --dest " + (tmp / "a").string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_NE(a.output.find("5354 images, 1258 masks"), std::string::npos) << a.output;

  // Counts per class and category: reference/mvtec_ad_layout.csv.
  std::ifstream csv(reference_dir() / "mvtec_ad_layout.csv");
  std::string line;
  std::getline(csv, line);
  int rows = 0;
  while (std::getline(csv, line)) {
    std::stringstream ss(line);
    std::string cls, split, category, count, width, height, channels;
    std::getline(ss, cls, ',');
    std::getline(ss, split, ',');
    std::getline(ss, category, ',');
    std::getline(ss, count, ',');
    std::getline(ss, width, ',');
    std::getline(ss, height, ',');
    std::getline(ss, channels, ',');
    const fs::path dir = tmp / "a" / cls / split / category;
    EXPECT_EQ(count_files(dir), std::stoi(count)) << dir;
    const std::string last = (std::stoi(count) - 1 < 10    ? "00"
                              : std::stoi(count) - 1 < 100 ? "0"
                                                           : "") +
                             std::to_string(std::stoi(count) - 1);
    const cv::Mat img = cv::imread((dir / (last + ".png")).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty()) << dir / (last + ".png");
    EXPECT_EQ(img.channels(), std::stoi(channels)) << dir;
    EXPECT_EQ(img.size(), cv::Size(32, 32)) << dir;
    if (category != "good") {
      EXPECT_EQ(count_files(tmp / "a" / cls / "ground_truth" / category), std::stoi(count));
      const cv::Mat mask =
          cv::imread((tmp / "a" / cls / "ground_truth" / category / (last + "_mask.png")).string(),
                     cv::IMREAD_UNCHANGED);
      ASSERT_EQ(mask.type(), CV_8UC1) << cls << "/" << category;
      EXPECT_EQ(mask.size(), img.size());
      EXPECT_GT(cv::countNonZero(mask), 0);
      EXPECT_EQ(cv::countNonZero((mask != 0) & (mask != 255)), 0) << "mask not 0/255";
    } else {
      EXPECT_FALSE(fs::exists(tmp / "a" / cls / "ground_truth" / "good"));
    }
    ++rows;
  }
  EXPECT_EQ(rows, 103);

  // The catalog reads it as MVTec AD.
  const auto catalog = tc::data::Catalog::scan(tmp / "a");
  EXPECT_EQ(catalog.classes().size(), 15u);
  EXPECT_EQ(catalog.train_pool().size(), 3629u);
  size_t test = 0;
  for (const auto& cls : catalog.classes()) test += catalog.test_set(cls).size();
  EXPECT_EQ(test, 1725u);

  // Every file the official manifests name exists: the pruned goods, and the
  // test images the injected defects are copied from (longest defect prefix).
  for (const std::string variant : {"pareto", "step_k1", "step_k4"}) {
    const fs::path m = reference_dir() / "manifest" / "mvtecad-nlt" / variant / "seed01";
    const auto pruned = manifest_lines(m / "prune_good.txt");
    ASSERT_FALSE(pruned.empty()) << m;
    for (const auto& p : pruned)
      ASSERT_TRUE(fs::is_regular_file(tmp / "a" / p)) << variant << ": " << p;
    for (const auto& p : manifest_lines(m / "inject_defects.txt")) {
      const fs::path path(p);
      const std::string cls = path.begin()->string(), name = path.filename().string();
      std::string best;
      for (const auto& e : fs::directory_iterator(tmp / "a" / cls / "test")) {
        const std::string d = e.path().filename().string();
        if (name.rfind(d + "_", 0) == 0 && d.size() > best.size()) best = d;
      }
      ASSERT_FALSE(best.empty()) << variant << ": " << p;
      EXPECT_TRUE(
          fs::is_regular_file(tmp / "a" / cls / "test" / best / name.substr(best.size() + 1)))
          << variant << ": " << p;
    }
  }

  // Same seed: the same bytes.
  const auto b =
      run_cli("synth --layout mvtec --size 32 --seed 3 --threads 1 --dest " + (tmp / "b").string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_TRUE(tree_bytes(tmp / "a") == tree_bytes(tmp / "b")) << "not deterministic";
}

TEST(SynthCli, BadInputIsOneClearLine) {
  TempDir tmp;
  fs::create_directories(tmp / "exists");
  auto r = run_cli("synth --dest " + (tmp / "exists").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  r = run_cli("synth --layout mvtech --dest " + (tmp / "x").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("mvtec, small, visa"), std::string::npos) << r.output;
  r = run_cli("synth --size 7 --dest " + (tmp / "x").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--size '7'"), std::string::npos) << r.output;
  r = run_cli("synth --layout visa --size full --dest " + (tmp / "x").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("full"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "x"));
  r = run_cli("synth --dest " + (tmp / "exists").string() + " --force --size 16");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_files(tmp / "exists" / "mesh" / "train" / "good"), 40);
}
