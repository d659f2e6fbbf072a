// Bad data and faults, driven through the real executable on a tiny
// synthetic tree (2 classes of the small layout at 48 px): NaN rows, masks
// paired by name, damaged artifacts, cache keys over the input files, the
// run-folder lock, option checks, data-set destinations, sweep isolation, and
// kill -9 at a seeded random point of every stage.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::run_command;

namespace {

const std::string kSizes =
    " --set data.resize=48 --set data.imagesize=40 --set data.inputsize=40 --set "
    "model.greedy_ratio=0.05";
const std::string kTiny = kSizes + " --pictures 0";

class Reliability : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    // 16 training images per class: seconds per run, and kill points in every stage.
    const auto error = tc::testing::make_small_tree(pristine(), {"checker", "disc"}, 16);
    ASSERT_EQ(error, "");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path pristine() { return *dir_ / "tiny"; }
  static fs::path config() {
    return tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  }

  /// A private copy of the tiny tree, for tests that damage it.
  static fs::path copy_of_data(const std::string& name) {
    return tc::testing::fresh_copy(pristine(), *dir_ / name);
  }
  static std::string run_args(const fs::path& data, const std::string& model,
                              const std::string& run_id, const std::string& extra = "") {
    return "run -c " + config().string() + " --data " + data.string() + " --out " +
           (*dir_ / "out").string() + " --run-id " + run_id +
           " --set model.coreset_model_name=" + model + kTiny + " " + extra;
  }
  static tc::testing::CommandResult run(const fs::path& data, const std::string& model,
                                        const std::string& run_id, const std::string& extra = "") {
    return run_cli(run_args(data, model, run_id, extra));
  }
  static fs::path run_dir(const fs::path& data, const std::string& run_id) {
    return *dir_ / "out" / data.filename() / "quickstart" / run_id;
  }
  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* Reliability::dir_ = nullptr;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int64_t mean_images(const fs::path& metrics) {
  std::istringstream in(tc::io::read_text(metrics));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("mean,", 0) == 0) return std::stoll(line.substr(line.rfind(',') + 1));
  return -1;
}

fs::path only_features_dir(const fs::path& data_out) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(data_out / "features")) dirs.push_back(e.path());
  EXPECT_EQ(dirs.size(), 1u);
  return dirs.empty() ? fs::path() : dirs.front();
}

// Rewrites a features.h5 with one NaN in image `bad`'s patch rows, every
// dataset and attribute kept (so the cache still takes it as its own).
void poison_features(const fs::path& file, int64_t bad) {
  torch::Tensor features, embeddings;
  std::vector<std::string> paths, classes;
  std::string hash, backbone;
  int64_t h = 0, w = 0;
  {
    tc::io::H5Reader r(file);
    features = r.read("features").to(torch::kFloat32);
    embeddings = r.read("embeddings");
    paths = r.read_strings("image_paths");
    classes = r.read_strings("class_names");
    hash = r.attr_string("config_hash");
    backbone = r.attr_string("backbone");
    h = r.attr_int("feature_h");
    w = r.attr_int("feature_w");
  }
  features[bad * h * w + 3][7] = NAN;
  embeddings[bad][1] = INFINITY;
  tc::io::H5Writer wr(file, "features", hash);
  wr.write("features", features);
  wr.write("embeddings", embeddings);
  wr.write_strings("image_paths", paths);
  wr.write_strings("class_names", classes);
  wr.set_attr("feature_h", h);
  wr.set_attr("feature_w", w);
  wr.set_attr("backbone", backbone);
  wr.commit();
}

// ---- NaN rows ---------------------------------------------------------------

TEST_F(Reliability, NanFeatureRowIsAnErrorNamingTheImageInEveryStage) {
  const auto data = copy_of_data("nan");
  const auto first = run(data, "softpatch", "nan", "--stop-after features");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const fs::path features = only_features_dir(*dir_ / "out" / "nan") / "features.h5";
  poison_features(features, 5);
  const std::string image = tc::io::H5Reader(features).read_strings("image_paths")[5];
  const auto again = run(data, "softpatch", "nan");
  EXPECT_NE(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "image " + image)) << again.output;
  EXPECT_TRUE(contains(again.output, "has a NaN or Inf value")) << again.output;
  // The log ends with the failure, not with "stage ... done".
  const auto log = tc::io::read_text(run_dir(data, "nan") / "run.log");
  EXPECT_TRUE(contains(log.substr(log.rfind("[ERROR]")), "run failed: ")) << log;
  EXPECT_TRUE(contains(log, "has a NaN or Inf value")) << log;
  // The stage commands on the same file: one line naming the image, no hang.
  const auto in = " --in " + features.string();
  for (const auto& cmd :
       {"tail" + in + " --out " + (*dir_ / "nan_tail.h5").string(),
        "lof" + in + " --out " + (*dir_ / "nan_lof.h5").string(),
        "coreset" + in + " --greedy_ratio 0.1 --out " + (*dir_ / "nan_cs.h5").string()}) {
    const auto r = run_cli(cmd);
    EXPECT_NE(r.exit_code, 0) << cmd << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "image " + image)) << cmd << "\n" << r.output;
  }
}

// ---- masks by name, inputs checked before the first stage ----------------------

TEST_F(Reliability, ADeletedTestImageWithItsMaskKeptFailsBeforeAnyStage) {
  const auto data = copy_of_data("orphan");
  const fs::path image = data / "checker" / "test" / "hole" / "000.png";
  ASSERT_TRUE(fs::exists(image));
  fs::remove(image);
  const auto r = run(data, "patchcore", "orphan");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(
      contains(r.output, "checker/ground_truth/hole/000_mask.png: mask without a test image"))
      << r.output;
  EXPECT_FALSE(contains(r.output, "stage features")) << r.output;
}

TEST_F(Reliability, AMaskOfTheWrongSizeFailsBeforeAnyStage) {
  const auto data = copy_of_data("masksize");
  const fs::path mask = data / "disc" / "ground_truth" / "stain" / "001_mask.png";
  ASSERT_TRUE(fs::exists(mask));
  // A 48 x 48 mask replaced by a 40 x 48 one.
  {
    std::ofstream out(mask, std::ios::binary | std::ios::trunc);
    // A minimal valid-looking PNG header is enough: the size check reads IHDR only.
    const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
                                 0,    13,  'I', 'H', 'D',  'R',  0,    0,    0, 40,
                                 0,    0,   0,   48,  8,    0,    0,    0,    0};
    out.write(reinterpret_cast<const char*>(png), sizeof png);
  }
  const auto r = run(data, "patchcore", "masksize");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "001_mask.png: mask is 40x48 but its image")) << r.output;
  EXPECT_FALSE(contains(r.output, "stage features")) << r.output;
}

// ---- damaged artifacts, cache keys over the inputs ---------------------------------

std::string read_or_empty(const fs::path& p) { return fs::exists(p) ? tc::io::read_text(p) : ""; }

TEST_F(Reliability, ADamagedCachedArtifactIsRecomputedWithAWarning) {
  const auto data = copy_of_data("damaged");
  const auto first = run(data, "patchcore", "damaged");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto dir = run_dir(data, "damaged");
  const std::string metrics = tc::io::read_text(dir / "metrics.csv");
  const auto size = fs::file_size(dir / "scores.h5");
  {
    std::fstream f(dir / "scores.h5", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 3));
    const std::string junk(size / 3, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto again = run(data, "patchcore", "damaged");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, (dir / "scores.h5").string() + " is unreadable"))
      << again.output;
  EXPECT_TRUE(contains(again.output, "recomputing scores")) << again.output;
  EXPECT_FALSE(contains(again.output, "stage coreset ...")) << again.output;
  EXPECT_EQ(tc::io::read_text(dir / "metrics.csv"), metrics);
}

TEST_F(Reliability, DeletingATestImageAndItsMaskRecomputesAndSaysWhy) {
  const auto data = copy_of_data("changed");
  const auto first = run(data, "patchcore", "changed");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto dir = run_dir(data, "changed");
  const int64_t before = mean_images(dir / "metrics.csv");
  fs::remove(data / "disc" / "test" / "stain" / "002.png");
  fs::remove(data / "disc" / "ground_truth" / "stain" / "002_mask.png");
  const auto again = run(data, "patchcore", "changed");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(
      contains(again.output,
               "2 input file(s) changed: mask disc/ground_truth/stain/002_mask.png removed, "
               "test disc/test/stain/002.png removed"))
      << again.output;
  EXPECT_TRUE(contains(again.output, "stage scores ...")) << again.output;
  EXPECT_EQ(mean_images(dir / "metrics.csv"), before - 1);
  // A touched training image (same bytes, new mtime) counts as changed too.
  const auto img = data / "checker" / "train" / "good" / "003.png";
  fs::last_write_time(img, fs::last_write_time(img) + std::chrono::seconds(5));
  const auto third = run(data, "patchcore", "changed", "--stop-after features");
  EXPECT_TRUE(contains(third.output, "train checker/train/good/003.png changed")) << third.output;
  EXPECT_TRUE(contains(third.output, "stage features ...")) << third.output;
}

// ---- options, temporaries, the lock -------------------------------------------------

TEST_F(Reliability, RunIdIsANameAndStopAfterTakesOnlyStageNames) {
  const auto bad_id = run(pristine(), "patchcore", "../../x");
  EXPECT_NE(bad_id.exit_code, 0);
  EXPECT_TRUE(contains(bad_id.output, "--run-id '../../x' is not a folder name")) << bad_id.output;
  EXPECT_FALSE(fs::exists(*dir_ / "x"));
  const auto bad_stage = run(pristine(), "patchcore", "stage", "--stop-after coreest");
  EXPECT_NE(bad_stage.exit_code, 0);
  EXPECT_TRUE(contains(bad_stage.output,
                       "--stop-after 'coreest' is not a stage: expected one of features, "))
      << bad_stage.output;
  EXPECT_FALSE(contains(bad_stage.output, "stage features")) << bad_stage.output;
}

TEST_F(Reliability, OutputPathOfStageCommandsIsCheckedBeforeComputing) {
  tc::testing::TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  const auto r = run_cli("extract --data " + pristine().string() + " -c " + config().string() +
                         kSizes + " --out " + (tmp / "file" / "f.h5").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "output folder")) << r.output;
  EXPECT_FALSE(contains(r.output, "extract train")) << r.output;
}

TEST_F(Reliability, TemporariesOfDeadRunsAreRemovedAndASecondRunWaitsForTheFirst) {
  const auto data = copy_of_data("lock");
  const auto dir = run_dir(data, "lock");
  fs::create_directories(dir);
  std::ofstream(dir / "coreset.h5.tmp-999999") << "left by a killed run";
  // The first run in the background; the second starts once the first holds the lock.
  const fs::path log_a = *dir_ / "lock_a.log";
  run_command("(" + tc::testing::cli_path().string() + " " + run_args(data, "patchcore", "lock") +
              " > " + log_a.string() + " 2>&1; echo exit=$? >> " + log_a.string() +
              ") > /dev/null 2>&1 &");
  for (int i = 0; i < 600 && !contains(read_or_empty(log_a), "stage features ..."); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto b = run(data, "patchcore", "lock");
  for (int i = 0; i < 600 && !contains(read_or_empty(log_a), "exit="); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto a = read_or_empty(log_a);
  ASSERT_TRUE(contains(a, "exit=0")) << a;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  // The first run can finish (2 s on an idle machine) before the second asks
  // for the lock; then there was nothing to wait for, and the rest still holds.
  if (!contains(b.output, "is in use by another run (pid "))
    std::printf("the first run finished before the second started: the lock was not contended\n");
  for (const char* stage : {"features", "coreset", "test_features", "scores"})
    EXPECT_FALSE(contains(b.output, std::string("stage ") + stage + " ...")) << b.output;
  EXPECT_FALSE(fs::exists(dir / "coreset.h5.tmp-999999"));
  // run.log: the first run's lines, then the second's, never interleaved.
  const auto log = tc::io::read_text(dir / "run.log");
  const auto second_start = log.rfind("] run ");
  ASSERT_NE(second_start, std::string::npos);
  EXPECT_EQ(log.find("stage features ...", second_start), std::string::npos) << log;
  EXPECT_EQ(log.find("stage scores ...", second_start), std::string::npos) << log;
}

// ---- data-set destinations -------------------------------------------------------------

TEST_F(Reliability, DataSetCommandsRefuseADestinationInsideOrEqualToTheSource) {
  const auto data = copy_of_data("nltsrc");
  const auto count = [&] {
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(data); it != fs::recursive_directory_iterator();
         ++it)
      ++n;
    return n;
  };
  const size_t files = count();
  for (const auto& dest :
       std::vector<std::string>{data.string(), data.string() + "/", data.string() + "/../nltsrc",
                                (data / "variant").string(), data.parent_path().string()}) {
    const auto r =
        run_cli("nlt make --source " + data.string() + " --dest " + dest + " --force --seed 1");
    EXPECT_NE(r.exit_code, 0) << dest << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "--dest ")) << r.output;
    const auto v = run_cli("visa convert --source " + data.string() + " --split-csv " +
                           (*dir_ / "none.csv").string() + " --dest " + dest + " --force");
    EXPECT_NE(v.exit_code, 0);
    EXPECT_TRUE(contains(v.output, "--dest ")) << v.output;
  }
  const auto a = run_cli("nlt apply --source " + data.string() + " --dest " + data.string() +
                         " --prune-manifest x --noisy-manifest y --force");
  EXPECT_NE(a.exit_code, 0);
  EXPECT_TRUE(contains(a.output, "is the source")) << a.output;
  EXPECT_EQ(count(), files);
}

// ---- sweeps -----------------------------------------------------------------------------

TEST_F(Reliability, ASweepRecordsAFailedRunAndGoesOn) {
  const auto good = copy_of_data("sgood");
  const auto bad = copy_of_data("sbad");
  fs::remove(bad / "checker" / "test" / "hole" / "001.png");  // its mask is now an orphan
  const fs::path out = *dir_ / "sweep_out";
  // A trailing slash is the same data set: one folder per (config, data, seed).
  const auto r = run_cli("sweep -c " + config().string() + " --data " + good.string() + "/ " +
                         bad.string() + "/ " + good.string() + " --seeds 0-1 --out " +
                         out.string() + " --set model.coreset_model_name=patchcore" + kSizes);
  EXPECT_NE(r.exit_code, 0) << r.output;
  // The sweep's own summary, <out>/sweep/<plan digest>/summary.md, as printed.
  const auto at = r.output.find("summary: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const fs::path summary = r.output.substr(at + 9, r.output.find('\n', at) - at - 9);
  EXPECT_EQ(summary.parent_path().parent_path(), out / "sweep");
  const auto md = tc::io::read_text(summary);
  EXPECT_TRUE(contains(md, "## quickstart (2 runs)")) << md;
  EXPECT_TRUE(contains(md, "## Failed runs (2 of 4)")) << md;
  EXPECT_TRUE(contains(md, "mask without a test image")) << md;
  EXPECT_TRUE(contains(md, (out / "sbad" / "quickstart" / "seed0" / "run.log").string())) << md;
  for (int s = 0; s < 2; ++s)
    EXPECT_TRUE(
        fs::exists(out / "sgood" / "quickstart" / ("seed" + std::to_string(s)) / "metrics.csv"))
        << s;
}

// ---- kill -9 at a seeded random point of each stage ----------------------------------------

// Running and not a zombie (a killed background process is reaped by init).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  return stat >> pid_field >> name >> state && state != "Z";
}

TEST_F(Reliability, KilledAtARandomPointOfEachStageTheRerunGivesIdenticalMetrics) {
  const auto data = copy_of_data("fault");
  // The reference: one uninterrupted run (its own run folder and features).
  const auto clean = run(data, "tailedcore", "clean", "--dataset-name fault_clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  const std::string want =
      tc::io::read_text(*dir_ / "out" / "fault_clean" / "quickstart" / "clean" / "metrics.csv");
  // One run, killed in each stage in turn: each restart resumes from the
  // cache and is killed a seeded random time after the next stage starts.
  std::mt19937 rng(20261201);
  const fs::path log = *dir_ / "fault.log";
  int killed_in_stage = 0;
  for (const std::string stage : {"features", "tail", "lof", "tail_features", "coreset",
                                  "test_features", "scores", "metrics"}) {
    const int delay_ms = std::uniform_int_distribution<int>(0, 150)(rng);
    fs::remove(log);
    // A simple command in the background: $! is the tailedcore process itself.
    const auto started =
        run_command(tc::testing::cli_path().string() + " " + run_args(data, "tailedcore", "fault") +
                    " > " + log.string() + " 2>&1 & echo $!");
    const pid_t pid = static_cast<pid_t>(std::stol(started.output));
    bool seen = false;
    for (int i = 0; i < 6000 && !seen && alive(pid); ++i) {
      seen = contains(read_or_empty(log), "stage " + stage + " ...");
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    seen = seen || contains(read_or_empty(log), "stage " + stage + " ...");
    // A short stage can finish within the previous kill's delay (then this
    // start resumes past it): the kill lands in a later stage instead.
    if (seen) {
      ++killed_in_stage;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    } else {
      std::printf("%s: finished before the previous kill landed\n", stage.c_str());
    }
    ::kill(pid,
           SIGKILL);  // the next start's lock waits, if need be, until the kernel has released it
  }
  // Short stages (tail, lof: tens of ms) often end within the previous delay.
  EXPECT_GE(killed_in_stage, 2) << "kills that landed in the stage they aimed at, of 8";
  const auto rerun = run(data, "tailedcore", "fault");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(tc::io::read_text(run_dir(data, "fault") / "metrics.csv"), want);
  for (const auto& dir : {run_dir(data, "fault"), only_features_dir(*dir_ / "out" / "fault")})
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
