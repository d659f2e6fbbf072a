// kill -9 in the middle of the greedy: the rerun resumes from the greedy's
// last checkpoint (not from the stage's start) and chooses the same bank as an
// uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::run_command;

namespace {

// A checkpoint every step (any positive interval below a step's time) and
// enough centres that the kill lands among them.
const std::string kArgs =
    " --set data.resize=48 --set data.imagesize=40 --set data.inputsize=40 --set "
    "model.greedy_ratio=0.5"
    " --set model.greedy_checkpoint_s=0.000001 --set model.coreset_model_name=patchcore --pictures "
    "0";

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  return stat >> pid_field >> name >> state && state != "Z";
}

bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto f = e.path().filename().string();
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".ckpt") == 0) return true;
  }
  return false;
}

TEST(GreedyResume, KilledMidGreedyTheRerunResumesFromTheCheckpointWithTheSameBank) {
  tc::testing::TempDir dir;
  const fs::path data = dir / "tiny";
  ASSERT_EQ(tc::testing::make_small_tree(data, {"checker", "disc"}), "");
  const auto config = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  const auto args = [&](const std::string& name) {
    return "run -c " + config.string() + " --data " + data.string() + " --out " +
           (dir / "out").string() + " --run-id r --dataset-name " + name + kArgs;
  };
  const auto clean = run_cli(args("clean"));
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  const fs::path clean_dir = dir / "out" / "clean" / "quickstart" / "r";
  EXPECT_FALSE(has_checkpoint(clean_dir)) << "checkpoints are removed once coreset.h5 is written";

  const fs::path run_dir = dir / "out" / "killed" / "quickstart" / "r";
  const fs::path log = dir / "killed.log";
  const auto started = run_command(tc::testing::cli_path().string() + " " + args("killed") + " > " +
                                   log.string() + " 2>&1 & echo $!");
  const pid_t pid = static_cast<pid_t>(std::stol(started.output));
  bool seen = false;
  for (int i = 0; i < 60000 && !seen && alive(pid); ++i) {
    seen = has_checkpoint(run_dir);
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(seen) << tc::io::read_text(log);
  for (int i = 0; i < 1000 && alive(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(fs::exists(run_dir / "coreset.h5")) << "the kill landed after the greedy";

  const auto rerun = run_cli(args("killed"));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_NE(rerun.output.find("greedy: resuming from the checkpoint of 1 rank(s) at "),
            std::string::npos)
      << rerun.output;
  const tc::io::H5Reader a(clean_dir / "coreset.h5"), b(run_dir / "coreset.h5");
  EXPECT_TRUE(torch::equal(a.read("coreset_indices"), b.read("coreset_indices")));
  EXPECT_EQ(tc::io::read_text(clean_dir / "metrics.csv"),
            tc::io::read_text(run_dir / "metrics.csv"));
  EXPECT_FALSE(has_checkpoint(run_dir));
  for (const auto& e : fs::directory_iterator(run_dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
