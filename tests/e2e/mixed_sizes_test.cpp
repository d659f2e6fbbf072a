// A pooled training set of two native sizes at `full` (VisA's case): every
// image keeps its own patch grid, LOF compares a position among the images of
// one grid, each test class is scored on its own grid; a class whose train and
// test images differ in size is still one line naming the file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;

namespace {

// checker at 48 x 32 (a 4 x 6 grid at stride 8), disc and grain at 48 x 48 (6 x 6).
bool wide(const std::string& cls) { return cls == "checker"; }

void crop_class(const fs::path& root, const std::string& cls) {
  for (const auto& e : fs::recursive_directory_iterator(root / cls)) {
    if (e.path().extension() != ".png") continue;
    const auto img = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty()) << e.path();
    ASSERT_TRUE(cv::imwrite(e.path().string(), img(cv::Rect(0, 8, 48, 32)).clone())) << e.path();
  }
}

fs::path find_file(const fs::path& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().filename() == name) return e.path();
  return {};
}

class MixedSizes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    ASSERT_EQ(tc::testing::make_small_tree(data(), {"checker", "disc", "grain"}, 12), "");
    crop_class(data(), "checker");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path data() { return *dir_ / "mixed"; }
  static tc::testing::CommandResult run(const std::string& method, const fs::path& data_dir,
                                        const fs::path& out) {
    return run_cli(
        "run -c " +
        (tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml").string() +
        " --data " + data_dir.string() + " --out " + out.string() + " --run-id " + method +
        " --set model.coreset_model_name=" + method +
        " --set data.resize=full --set data.imagesize=full --set data.inputsize=full"
        " --set model.greedy_ratio=0.05 --pictures 0");
  }
  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* MixedSizes::dir_ = nullptr;

TEST_F(MixedSizes, SoftPatchAndTailedCoreRunOnTheirOwnGrids) {
  const fs::path out = *dir_ / "out";
  for (const std::string method : {"softpatch", "tailedcore"}) {
    const auto r = run(method, data(), out);
    ASSERT_EQ(r.exit_code, 0) << method << "\n" << r.output;
    const fs::path run_dir = out / "mixed" / "quickstart" / method;
    EXPECT_TRUE(fs::exists(run_dir / "metrics.csv")) << method;
    // 12 training images of 4 x 6 and 24 of 6 x 6: every row has a LOF score.
    tc::io::H5Reader lof(run_dir / "lof.h5");
    EXPECT_EQ(lof.shape("lof_scores"), (std::vector<int64_t>{12 * 24 + 24 * 36})) << method;
    tc::io::H5Reader scores(run_dir / "scores.h5");
    for (const std::string cls : {"checker", "disc", "grain"}) {
      const auto maps = scores.shape(cls + "/anomaly_maps");
      EXPECT_EQ(maps.at(1), wide(cls) ? 32 : 48) << method << " " << cls;
      EXPECT_EQ(maps.at(2), 48) << method << " " << cls;
    }
  }
  // features.h5 records each image's grid (/grids, not one feature_h/feature_w).
  tc::io::H5Reader f(find_file(out, "features.h5"));
  EXPECT_FALSE(f.has_attr("feature_h"));
  const auto grids = f.read("grids");
  const auto classes = f.read_strings("class_names");
  ASSERT_EQ(grids.size(0), 36);
  for (int64_t i = 0; i < 36; ++i) {
    EXPECT_EQ(grids[i][0].item<int64_t>(), wide(classes[i]) ? 4 : 6) << classes[i];
    EXPECT_EQ(grids[i][1].item<int64_t>(), 6) << classes[i];
  }
  // test_features.h5: one grid a class.
  tc::io::H5Reader t(find_file(out, "test_features.h5"));
  EXPECT_FALSE(t.has_attr("feature_h"));
  EXPECT_TRUE(torch::equal(t.read("checker/grid"), torch::tensor({4, 6}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(t.read("disc/grid"), torch::tensor({6, 6}, torch::kInt64)));
}

// A class's test images are scored on its training grid: a test image of
// another size is refused before the first stage, naming the file.
TEST_F(MixedSizes, ClassWhoseTestSizeDiffersIsOneLineNamingTheFile) {
  const auto bad = tc::testing::fresh_copy(data(), *dir_ / "bad");
  fs::path victim;
  for (const auto& e : fs::recursive_directory_iterator(bad / "disc" / "test"))
    if (e.path().extension() == ".png" && victim.empty()) victim = e.path();
  const auto img = cv::imread(victim.string(), cv::IMREAD_UNCHANGED);
  ASSERT_TRUE(cv::imwrite(victim.string(), img(cv::Rect(0, 0, 40, 48)).clone()));
  const auto r = run("softpatch", bad, *dir_ / "bad_out");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(victim.string() + ": image is 40x48"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("one size within a class"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << r.output;
}

}  // namespace
