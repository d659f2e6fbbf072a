// The executable end to end on a tiny synthetic noisy long-tail data set:
// synth -> nlt make -> run (PatchCore, SoftPatch, TailedCore), resume, stage
// commands on the cached features.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;

namespace {

// Small images (96 -> 84 crop, an 11 x 11 patch grid from the quickstart's stride-8 tap) keep each
// run to seconds.
const std::string kSmall = " --set data.resize=96 --set data.imagesize=84 --set data.inputsize=84";

class RunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    const auto r1 = run_cli("synth --layout small --seed 0 --dest " + (*dir_ / "small").string());
    ASSERT_EQ(r1.exit_code, 0) << r1.output;
    const auto r2 = run_cli("nlt make --source " + (*dir_ / "small").string() + " --dest " +
                            data().string() + " --profile pareto --noise-ratio 0.1 --seed 1");
    ASSERT_EQ(r2.exit_code, 0) << r2.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path data() { return *dir_ / "small-pareto"; }
  static fs::path results() { return *dir_ / "results"; }
  static fs::path config() {
    return tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  }

  static tc::testing::CommandResult run(const std::string& model, const std::string& extra = "",
                                        const std::string& run_id = "") {
    return run_cli("run -c " + config().string() + " --data " + data().string() + " --out " +
                   results().string() + " --run-id " + (run_id.empty() ? model : run_id) +
                   " --set model.coreset_model_name=" + model + kSmall + " --pictures 1 " + extra);
  }
  static fs::path run_dir(const std::string& model) {
    return results() / "small-pareto" / "quickstart" / model;
  }

  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* RunTest::dir_ = nullptr;

// mean image AUROC from metrics.csv
double mean_image_auroc(const fs::path& csv) {
  std::istringstream in(tc::io::read_text(csv));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("mean,", 0) == 0) return std::stod(line.substr(5));
  return -1;
}

TEST_F(RunTest, EveryModelRunsEndToEndAndLeavesEveryArtifact) {
  for (const std::string model : {"patchcore", "softpatch", "tailedcore"}) {
    const auto r = run(model);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto dir = run_dir(model);
    for (const char* f :
         {"config.yaml", "run.log", "coreset.h5", "scores.h5", "metrics.csv", "report.md"})
      EXPECT_TRUE(fs::exists(dir / f)) << model << ": " << f;
    if (model != "patchcore") EXPECT_TRUE(fs::exists(dir / "lof.h5")) << model;
    if (model == "tailedcore") {
      EXPECT_TRUE(fs::exists(dir / "tail.h5"));
      EXPECT_TRUE(fs::exists(dir / "tail_features.h5"));
    }
    EXPECT_FALSE(fs::is_empty(dir / "pictures")) << model;
    // Floor: above chance for PatchCore and TailedCore. Random-weight ResNet-18
    // features on these 84 px textures score about 78-80 here; 55 catches a
    // broken pipeline (inverted or constant scores give <= 50) without
    // depending on the exact random weights. SoftPatch's LOF weights make it
    // unstable on so few images, so it is only checked to be a valid AUROC.
    const double auroc = mean_image_auroc(dir / "metrics.csv");
    if (model == "softpatch") {
      EXPECT_TRUE(auroc >= 0 && auroc <= 100) << auroc;
    } else {
      EXPECT_GT(auroc, 55.0) << model << "\n" << r.output;
    }
    tc::io::H5Reader scores(dir / "scores.h5");
    EXPECT_EQ(scores.attr_string("stage"), "scores");
    EXPECT_EQ(scores.shape("disc/anomaly_maps"), (std::vector<int64_t>{20, 84, 84}));
    // float32: the metrics are computed from these raw squared distances (pipeline/artifacts.h).
    EXPECT_EQ(scores.dtype("disc/anomaly_maps"), tc::io::DType::kFloat32);
    EXPECT_EQ(scores.shape("disc/gt_masks"), (std::vector<int64_t>{20, 84, 84}));
  }
  tc::io::H5Reader bank(run_dir("softpatch") / "coreset.h5");
  EXPECT_TRUE(bank.has("weights"));
  EXPECT_GT(tc::io::H5Reader(run_dir("tailedcore") / "coreset.h5").attr_int("tail_rows"), 0);
}

TEST_F(RunTest, AnInterruptedRunResumesFromItsLastFinishedStage) {
  const auto first = run("softpatch", "--stop-after lof", "resume");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto dir = results() / "small-pareto" / "quickstart" / "resume";
  EXPECT_TRUE(fs::exists(dir / "lof.h5"));
  EXPECT_FALSE(fs::exists(dir / "coreset.h5"));
  const auto lof_time = fs::last_write_time(dir / "lof.h5");
  // A half-written artifact from a crash is ignored: only complete files count.
  std::ofstream(dir / "coreset.h5.tmp-1") << "partial";
  const auto second = run("softpatch", "", "resume");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("stage lof ..."), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("stage coreset ..."), std::string::npos) << second.output;
  EXPECT_EQ(fs::last_write_time(dir / "lof.h5"), lof_time);
  EXPECT_TRUE(fs::exists(dir / "metrics.csv"));
  // A changed config is a different run: nothing is reused from the old one.
  const auto third = run("softpatch", "--set model.greedy_ratio=0.2", "resume");
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_NE(third.output.find("stage lof ..."), std::string::npos);
}

// tail_lof: true swaps TailedCore's head filter for TailedLOF (LOF x few-shot
// score); the reference supports it only with the scalar patch-wise thresholds.
TEST_F(RunTest, TailLofRunsTailedLofAsTheHeadFilter) {
  const auto r = run("tailedcore",
                     "--set model.tail_lof=true --set model.tail_th_type=symmin --stop-after lof",
                     "tailed_lof");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  tc::io::H5Reader lof(results() / "small-pareto" / "quickstart" / "tailed_lof" / "lof.h5");
  EXPECT_EQ(lof.attr_string("filter"), "tailed_lof");
  const int64_t rows = lof.shape("lof_scores")[0];
  EXPECT_GT(lof.shape("kept_indices")[0], 0);
  EXPECT_LT(lof.shape("kept_indices")[0], rows);
  const auto bad =
      run("tailedcore", "--set model.tail_lof=true --stop-after lof", "tailed_lof_trim");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("with tail_lof"), std::string::npos) << bad.output;
}

TEST_F(RunTest, StageCommandsRunOnCachedFeatures) {
  const auto ex = run_cli("extract --data " + data().string() + " -c " + config().string() +
                          kSmall + " --out " + (*dir_ / "features.h5").string());
  ASSERT_EQ(ex.exit_code, 0) << ex.output;
  tc::io::H5Reader f(*dir_ / "features.h5");
  // The quickstart: 512-d patches on EfficientNet-Lite0's stride-8 grid (84 px -> 11 x 11).
  EXPECT_EQ(f.shape("features")[1], 512);
  EXPECT_EQ(f.attr_int("feature_h"), 11);
  const int64_t n = f.shape("embeddings")[0];
  EXPECT_EQ(f.shape("features")[0], n * 121);
  EXPECT_EQ(static_cast<int64_t>(f.read_strings("image_paths").size()), n);
  const auto in = " --in " + (*dir_ / "features.h5").string();
  ASSERT_EQ(run_cli("tail" + in + " --out " + (*dir_ / "tail.h5").string()).exit_code, 0);
  ASSERT_EQ(run_cli("lof" + in + " --out " + (*dir_ / "lof.h5").string()).exit_code, 0);
  const auto tl =
      run_cli("lof" + in + " --tailed symmin --out " + (*dir_ / "tailed_lof.h5").string());
  ASSERT_EQ(tl.exit_code, 0) << tl.output;
  EXPECT_EQ(tc::io::H5Reader(*dir_ / "tailed_lof.h5").attr_string("filter"), "tailed_lof");
  const auto cs = run_cli("coreset" + in + " --out " + (*dir_ / "coreset.h5").string() +
                          " --greedy_ratio 0.05 --greedy_proj_dim 0 --start-index 3 --weights " +
                          (*dir_ / "lof.h5").string());
  ASSERT_EQ(cs.exit_code, 0) << cs.output;
  tc::io::H5Reader c(*dir_ / "coreset.h5");
  EXPECT_EQ(c.shape("coreset")[1], 512);
  EXPECT_EQ(c.shape("weights")[0], c.shape("coreset")[0]);
  EXPECT_TRUE(tc::io::H5Reader(*dir_ / "tail.h5").has("tail_indices"));
}

// --backbone-weights FILE is --set model.backbone_weights=FILE (a user's
// TorchScript module here, to keep it small); a missing file is one line
// before any work.
TEST_F(RunTest, ExtractTakesTheBackboneWeightsAsAnOption) {
  const auto weights = tc::testing::fixtures_dir() / "features" / "dict_backbone.pt";
  const std::string extract =
      "extract --data " + data().string() + " -c " + config().string() + kSmall +
      " --set model.backbone_names=[torchscript] --set model.layers_to_extract=[low,mid]"
      " --set model.embedding_to_extract_from=pooled --threads 1";
  const auto by_option = run_cli(extract + " --backbone-weights " + weights.string() + " --out " +
                                 (*dir_ / "by_option.h5").string());
  ASSERT_EQ(by_option.exit_code, 0) << by_option.output;
  const auto by_set = run_cli(extract + " --set model.backbone_weights=" + weights.string() +
                              " --out " + (*dir_ / "by_set.h5").string());
  ASSERT_EQ(by_set.exit_code, 0) << by_set.output;
  const tc::io::H5Reader a(*dir_ / "by_option.h5"), b(*dir_ / "by_set.h5");
  EXPECT_EQ(a.shape("embeddings")[1], 24);  // the module's "pooled" output
  EXPECT_TRUE(torch::equal(a.read("features"), b.read("features")));
  EXPECT_TRUE(torch::equal(a.read("embeddings"), b.read("embeddings")));
  EXPECT_EQ(a.attr_string("config_hash"), b.attr_string("config_hash"));

  const auto missing = run_cli(extract + " --backbone-weights " + (*dir_ / "nope.pt").string() +
                               " --out " + (*dir_ / "nope.h5").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("--backbone-weights " + (*dir_ / "nope.pt").string() +
                                ": does not exist"),
            std::string::npos)
      << missing.output;
  EXPECT_EQ(missing.output.find('\n'), missing.output.size() - 1) << missing.output;
  EXPECT_FALSE(fs::exists(*dir_ / "nope.h5"));
}

TEST_F(RunTest, BadInputIsOneClearLine) {
  auto r = run_cli("run -c " + config().string() + " --data " + (*dir_ / "nope").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("nope: data folder does not exist"), std::string::npos) << r.output;
  r = run_cli("run -c " + config().string() + " --data " + data().string() +
              " --set model.greedy_rato=0.1");
  EXPECT_NE(r.output.find("did you mean 'model.greedy_ratio'"), std::string::npos) << r.output;
  r = run_cli("coreset --in " + (*dir_ / "missing.h5").string() + " --out x.h5");
  EXPECT_NE(r.output.find("missing.h5: file does not exist"), std::string::npos) << r.output;
  r = run_cli("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
