// Bad input that used to end in a hang, a LibTorch backtrace or a silent wrong
// result, driven through the real executable: one line each, before the work
// where it can be known.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::run_command;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The error line main() prints for rank 0 (and the others) of a failed job.
bool one_error_line(const std::string& output) {
  size_t errors = 0;
  for (size_t at = output.find(": error: "); at != std::string::npos;
       at = output.find(": error: ", at + 1))
    ++errors;
  return errors >= 1 && !contains(output, "Exception raised from") && !contains(output, "frame #");
}

void write_rows(const fs::path& path, const torch::Tensor& rows, int64_t h = 0, int64_t w = 0) {
  tc::io::H5Writer wr(path, "features", "cafe0001");
  wr.create("features", tc::io::DType::kFloat32, {rows.size(0), rows.size(1)});
  if (rows.size(0)) wr.write_rows("features", 0, rows);
  if (h) {
    wr.set_attr("feature_h", h);
    wr.set_attr("feature_w", w);
  }
  wr.commit();
}

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    ASSERT_EQ(tc::testing::make_small_tree(data(), {"checker", "disc"}), "");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path data() { return *dir_ / "tiny"; }
  static fs::path config() {
    return tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  }
  static std::string run_args(const std::string& extra) {
    return "run -c " + config().string() + " --data " + data().string() + " --out " +
           (*dir_ / "out").string() +
           " --set data.resize=48 --set data.imagesize=40 --set data.inputsize=40 --pictures 0 " +
           extra;
  }
  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* BadInput::dir_ = nullptr;

// A Slurm array or wrapper mistake: two ranks started with different settings.
// Before: a hang in a collective or MPI_ERR_TRUNCATE. Now every rank stops at
// once naming the rank and the first setting that differs.
TEST_F(BadInput, RanksWithDifferentPlansStopNamingTheRankAndTheSetting) {
  const std::string tc = tc::testing::cli_path().string();
  const std::string mpirun =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 mpirun "
      "--oversubscribe --bind-to none ";
  const auto r =
      run_command(mpirun + "-np 1 " + tc + " " + run_args("--set model.greedy_ratio=0.1") +
                  " : -np 1 " + tc + " " + run_args("--set model.greedy_ratio=0.2") + " 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, 124) << "timed out (a hang): " << r.output;
  EXPECT_TRUE(
      contains(r.output, "rank 1 runs another plan than rank 0: first at 'model.greedy_ratio: 0.2"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "(rank 0: 'model.greedy_ratio: 0.1")) << r.output;
  EXPECT_FALSE(contains(r.output, "stage features")) << r.output;
}

// Finite rows whose float32 squared distances overflow: before, every
// min-distance was inf and the greedy picked rows in index order, exit 0.
TEST_F(BadInput, CoresetOfRowsWhoseDistancesOverflowIsAnError) {
  torch::manual_seed(1);
  write_rows(*dir_ / "huge.h5", torch::randn({200, 16}) * 1e19);
  const auto r =
      run_cli("coreset --in " + (*dir_ / "huge.h5").string() + " --out " +
              (*dir_ / "huge_bank.h5").string() + " --greedy_ratio 0.1 --greedy_proj_dim 0");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "squared distances overflow")) << r.output;
  EXPECT_TRUE(one_error_line(r.output)) << r.output;
  EXPECT_FALSE(fs::exists(*dir_ / "huge_bank.h5"));
}

// LOF on a features file without rows: one line, not an internal check.
TEST_F(BadInput, LofOnZeroRowsIsOneLine) {
  write_rows(*dir_ / "empty.h5", torch::empty({0, 8}), 2, 2);
  const auto r = run_cli("lof --in " + (*dir_ / "empty.h5").string() + " --out " +
                         (*dir_ / "empty_lof.h5").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "LOF: no training rows")) << r.output;
  EXPECT_TRUE(one_error_line(r.output)) << r.output;
}

// A projection wider than the rows: the reference's nn.Linear(d, proj) maps
// up, and so do we; the bank is chosen, not a backtrace.
TEST_F(BadInput, AProjectionWiderThanTheRowsWorks) {
  torch::manual_seed(2);
  write_rows(*dir_ / "narrow.h5", torch::randn({300, 8}));
  const auto r =
      run_cli("coreset --in " + (*dir_ / "narrow.h5").string() + " --out " +
              (*dir_ / "narrow_bank.h5").string() + " --greedy_ratio 0.1 --greedy_proj_dim 256");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(tc::io::H5Reader(*dir_ / "narrow_bank.h5").shape("coreset"),
            (std::vector<int64_t>{30, 8}));
}

// A 30000 x 30000 PNG among the training images: refused from its header
// before the first stage (before: the decoder's allocation failed mid-stage).
TEST_F(BadInput, AHugeTrainingImageIsRefusedBeforeTheFirstStage) {
  const fs::path copy = tc::testing::fresh_copy(data(), *dir_ / "huge_tree");
  const fs::path png = copy / "checker" / "train" / "good" / "zzz_huge.png";
  {
    std::ofstream out(png, std::ios::binary);
    const unsigned char header[] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0, 0,
                                    13,   'I',  'H', 'D', 'R',  0,    0,    0x75, 0x30, 0, 0,
                                    0x75, 0x30, 8,   2,   0,    0,    0,    0,    0,    0, 0};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
  }
  const auto r = run_cli("run -c " + config().string() + " --data " + copy.string() + " --out " +
                         (*dir_ / "out_huge").string() + " --pictures 0");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "zzz_huge.png: image is 30000x30000")) << r.output;
  EXPECT_FALSE(contains(r.output, "stage features")) << r.output;
}

}  // namespace
