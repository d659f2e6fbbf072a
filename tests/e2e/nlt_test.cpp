// `tailedcore nlt apply|make` and `tailedcore visa convert` through the
// executable: exit codes, one-line errors, and the trees they write.
#include <gtest/gtest.h>

#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "data_trees.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::TempDir;
using tc::testing::touch;
using tc::testing::zero_pad;

namespace {

void make_class(const fs::path& root, const std::string& name, int n_good, int n_defects) {
  for (int i = 0; i < n_good; ++i)
    tc::testing::touch_image(root / name / "train/good" / (zero_pad(i, 3) + ".png"), name);
  tc::testing::touch_image(root / name / "test/good/000.png");
  for (int i = 0; i < n_defects; ++i) {
    tc::testing::touch_image(root / name / "test/broken" / (zero_pad(i, 3) + ".png"),
                             name + " broken " + std::to_string(i));
    tc::testing::touch_image(root / name / "ground_truth/broken" / (zero_pad(i, 3) + "_mask.png"));
  }
}

// Relative paths of every train/good file of every class (the manifest folder
// of `nlt make` is not a class and has no train/good).
std::set<std::string> train_files(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& cls : fs::directory_iterator(root))
    if (fs::is_directory(cls.path() / "train/good"))
      for (const auto& f : fs::directory_iterator(cls.path() / "train/good"))
        out.insert(fs::relative(f.path(), root).string());
  return out;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(NltCli, ApplyBuildsTheVariant) {
  TempDir tmp;
  make_class(tmp / "src", "a", 4, 2);
  make_class(tmp / "src", "b", 3, 1);
  touch(tmp / "prune.txt", "a/train/good/000.png\na/train/good/003.png\nb/train/good/001.png");
  touch(tmp / "inject.txt", "a/train/good/broken_001.png");
  const std::string args = "nlt apply --source " + q(tmp / "src") + " --prune-manifest " +
                           q(tmp / "prune.txt") + " --noisy-manifest " + q(tmp / "inject.txt") +
                           " --dest ";
  const auto r = run_cli(args + q(tmp / "out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(train_files(tmp / "out"),
            (std::set<std::string>{"a/train/good/001.png", "a/train/good/002.png",
                                   "a/train/good/broken_001.png", "b/train/good/000.png",
                                   "b/train/good/002.png"}));
  EXPECT_EQ(tc::testing::count_files_below(tmp / "out/a/test"), 3);
  // dest exists: an error unless --force.
  const auto again = run_cli(args + q(tmp / "out"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("--force"), std::string::npos) << again.output;
  EXPECT_EQ(run_cli(args + q(tmp / "out") + " --force").exit_code, 0);
  // --symlink: links to the source files.
  ASSERT_EQ(run_cli(args + q(tmp / "links") + " --symlink").exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(tmp / "links/a/train/good/broken_001.png"));
  EXPECT_TRUE(
      fs::equivalent(tmp / "links/a/train/good/broken_001.png", tmp / "src/a/test/broken/001.png"));
}

TEST(NltCli, ApplyErrorsAreOneLineAndNameTheLine) {
  TempDir tmp;
  make_class(tmp / "src", "a", 2, 1);
  touch(tmp / "prune.txt", "a/train/good/000.png\na/train/000.png");
  touch(tmp / "inject.txt", "");
  const auto r = run_cli("nlt apply --source " + q(tmp / "src") + " --dest " + q(tmp / "out") +
                         " --prune-manifest " + q(tmp / "prune.txt") + " --noisy-manifest " +
                         q(tmp / "inject.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("tailedcore nlt: error: " + (tmp / "prune.txt").string() + ":2:"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(tmp / "out"));
  // Missing required option, unknown verb.
  const auto missing =
      run_cli("nlt apply --source " + q(tmp / "src") + " --dest " + q(tmp / "out"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("-manifest' is required"), std::string::npos) << missing.output;
  const auto verb = run_cli("nlt fetch");
  EXPECT_NE(verb.exit_code, 0);
  EXPECT_NE(verb.output.find("'apply' or 'make'"), std::string::npos) << verb.output;
}

TEST(NltCli, MakeIsDeterministicPerSeed) {
  TempDir tmp;
  for (const char* name : {"c1", "c2", "c3", "c4", "c5", "c6"})
    make_class(tmp / "src", name, 30, 5);
  const auto make = [&](const std::string& dest, const std::string& opts) {
    const auto r =
        run_cli("nlt make --source " + q(tmp / "src") + " --dest " + q(tmp / dest) + " " + opts);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return train_files(tmp / dest);
  };
  const auto a = make("a", "--profile step --tail-classes 4 --noise-ratio 0.1 --seed 3");
  EXPECT_EQ(make("b", "--profile step --tail-classes 4 --noise-ratio 0.1 --seed 3"), a);
  EXPECT_NE(make("c", "--profile step --tail-classes 4 --noise-ratio 0.1 --seed 4"), a);
  // Step: round(0.6 * 6) = 4 tail classes keep 4 images; 2 head classes keep
  // 30 and get round(0.1 * 30) = 3 defects each.
  std::map<std::string, int> per_class;
  for (const auto& f : a) ++per_class[f.substr(0, f.find('/'))];
  std::multiset<int> sizes;
  for (const auto& [_, n] : per_class) sizes.insert(n);
  EXPECT_EQ(sizes, (std::multiset<int>{4, 4, 4, 4, 33, 33}));
  // The manifests and per-class counts are stored in <dest>/manifest/.
  EXPECT_TRUE(fs::is_regular_file(tmp / "a/manifest/prune_good.txt"));
  EXPECT_TRUE(fs::is_regular_file(tmp / "a/manifest/inject_defects.txt"));
  EXPECT_EQ(tc::testing::count_files_below(tmp / "a/manifest"), 3);
  const auto p1 = make("p1", "--profile pareto --seed 9");
  EXPECT_EQ(make("p2", "--profile pareto --seed 9"), p1);
  const auto bad = run_cli("nlt make --source " + q(tmp / "src") + " --dest " + q(tmp / "z") +
                           " --profile zipf");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("expected pareto or step"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(tmp / "z"));
}

TEST(VisaCli, ConvertWritesTheMvtecLayout) {
  TempDir tmp;
  tc::testing::touch_image(tmp / "VisA/pcb1/Data/Images/Normal/0000.JPG", "n0");
  tc::testing::touch_image(tmp / "VisA/pcb1/Data/Images/Normal/0001.JPG", "n1");
  tc::testing::touch_image(tmp / "VisA/pcb1/Data/Images/Anomaly/000.JPG", "a0");
  cv::Mat mask(3, 3, CV_8UC1, cv::Scalar(0));
  mask.at<uint8_t>(1, 1) = 2;
  fs::create_directories(tmp / "VisA/pcb1/Data/Masks/Anomaly");
  ASSERT_TRUE(cv::imwrite((tmp / "VisA/pcb1/Data/Masks/Anomaly/000.png").string(), mask));
  touch(tmp / "1cls.csv",
        "object,split,label,image,mask\n"
        "pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,\n"
        "pcb1,test,normal,pcb1/Data/Images/Normal/0001.JPG,\n"
        "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/000.JPG,pcb1/Data/Masks/Anomaly/000.png\n");
  const auto r = run_cli("visa convert --source " + q(tmp / "VisA") + " --split-csv " +
                         q(tmp / "1cls.csv") + " --dest " + q(tmp / "visa"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::is_regular_file(tmp / "visa/pcb1/train/good/0000.JPG"));
  EXPECT_TRUE(fs::is_regular_file(tmp / "visa/pcb1/test/good/0001.JPG"));
  EXPECT_TRUE(fs::is_regular_file(tmp / "visa/pcb1/test/bad/000.JPG"));
  const cv::Mat out =
      cv::imread((tmp / "visa/pcb1/ground_truth/bad/000_mask.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.at<uint8_t>(1, 1), 255);
  EXPECT_EQ(cv::countNonZero(out), 1);

  touch(tmp / "bad.csv", "obj,split,label,image,mask\n");
  const auto bad = run_cli("visa convert --source " + q(tmp / "VisA") + " --split-csv " +
                           q(tmp / "bad.csv") + " --dest " + q(tmp / "visa2"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("tailedcore visa: error:"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("expected object,split,label,image,mask"), std::string::npos)
      << bad.output;
  EXPECT_FALSE(fs::exists(tmp / "visa2"));
}

}  // namespace
