// Artifacts under faults, through the real executable: a disk that runs out
// of room under any writer (the run at 1 and 2 ranks, `extract`), shards
// swapped on disk, and stage-command inputs that break the integrity rule
// (a missing shard, external raw storage, an absurd declared shape).
//
// Out of room: `ulimit -f` (RLIMIT_FSIZE, SIGXFSZ ignored) makes every write
// past the limit fail with EFBIG through the same calls a full disk fails
// with ENOSPC; it needs no privilege, so it runs in CI. Where a tmpfs can be
// mounted (root with CAP_SYS_ADMIN), a real full disk is tried as well.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/mount.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::run_command;

namespace {

const std::string kSizes =
    " --set data.resize=48 --set data.imagesize=40 --set data.inputsize=40 --set "
    "model.greedy_ratio=0.05 --threads 1";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Any `*.tmp-*` below `dir`: a writer left a temporary behind.
std::vector<fs::path> temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (contains(e.path().filename().string(), ".tmp-")) out.push_back(e.path());
  return out;
}

std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

const std::string kMpirun = "mpirun -np 2 --oversubscribe --allow-run-as-root --bind-to none";

class ArtifactFaultsE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    ASSERT_EQ(tc::testing::make_small_tree(data(), {"checker"}, 12), "");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path data() { return *dir_ / "tiny"; }
  static fs::path config() {
    return tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  }
  static std::string run_args(const fs::path& out, const std::string& extra = "") {
    return "run -c " + config().string() + " --data " + data().string() + " --out " + out.string() +
           " --run-id r --pictures 0 --set model.coreset_model_name=patchcore" + kSizes + " " +
           extra;
  }
  static fs::path run_dir(const fs::path& out) { return out / "tiny" / "quickstart" / "r"; }
  // `command` with writes past `kib` KiB of any one file failing (EFBIG).
  static std::string limited(int kib, const std::string& command) {
    return "bash -c 'ulimit -f " + std::to_string(kib) + "; trap \"\" XFSZ; exec " + command + "'";
  }
  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* ArtifactFaultsE2e::dir_ = nullptr;

// The run fails where its artifact outgrows the room left (test_features,
// after features and coreset were cached), says which file and why in one
// line on the console and as the last line of run.log, leaves no temporary
// and no artifact, and a rerun with room resumes at the stage that failed.
TEST_F(ArtifactFaultsE2e, ARunOutOfRoomFailsCleanlyAndTheRerunResumes) {
  const fs::path out = *dir_ / "out_full";
  auto r = run_cli(run_args(out, "--stop-after coreset"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(limited(64, tc::testing::cli_path().string() + " " + run_args(out)));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // not 139 (SIGSEGV in ~H5Writer)
  EXPECT_TRUE(contains(r.output, "test_features.shard-0-of-1.h5: HDF5 error")) << r.output;
  EXPECT_TRUE(contains(r.output, "File too large (EFBIG)")) << r.output;
  EXPECT_TRUE(contains(r.output, "is the disk full?")) << r.output;
  const std::string last = last_line(run_dir(out) / "run.log");
  EXPECT_TRUE(contains(last, "run failed: ") && contains(last, "File too large (EFBIG)")) << last;
  EXPECT_FALSE(fs::exists(run_dir(out) / "test_features.h5"));
  EXPECT_TRUE(temporaries(out).empty()) << temporaries(out).front();

  r = run_cli(run_args(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "stage features ...")) << r.output;
  EXPECT_FALSE(contains(r.output, "stage coreset ...")) << r.output;
  EXPECT_TRUE(contains(r.output, "stage test_features ...")) << r.output;
  EXPECT_TRUE(fs::exists(run_dir(out) / "metrics.csv"));
}

// Two ranks, each failing on its own shard: the job ends with the error (no
// rank segfaults), nothing half-written is under a final name, and a rerun
// with room completes and clears what the aborted job may have left.
TEST_F(ArtifactFaultsE2e, TwoRanksOutOfRoomEndCleanlyAndTheRerunCompletes) {
  const fs::path out = *dir_ / "out_full2";
  // No shared-memory transport: its segment file would itself outgrow the limit.
  auto r = run_command(kMpirun + " --mca btl self,tcp " +
                       limited(48, tc::testing::cli_path().string() + " " + run_args(out)));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "features.shard-")) << r.output;
  EXPECT_TRUE(contains(r.output, "File too large (EFBIG)")) << r.output;
  EXPECT_FALSE(contains(r.output, "Segmentation fault")) << r.output;
  EXPECT_FALSE(contains(r.output, "signal 11")) << r.output;
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_NE(e.path().filename(), "features.h5")
        << "an artifact under its final name after a failed write";
  r = run_command(kMpirun + " " + tc::testing::cli_path().string() + " " + run_args(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(run_dir(out) / "metrics.csv"));
  EXPECT_TRUE(temporaries(out).empty()) << temporaries(out).front();
}

TEST_F(ArtifactFaultsE2e, ExtractOutOfRoomFailsNamingTheFile) {
  const fs::path out = *dir_ / "extract" / "features.h5";
  const auto r = run_command(limited(32, tc::testing::cli_path().string() + " extract --data " +
                                             data().string() + " --config " + config().string() +
                                             " --out " + out.string() + kSizes));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // extract writes features.h5 as the run does: its rank's shard first.
  EXPECT_TRUE(contains(r.output,
                       (out.parent_path() / "features.shard-0-of-1.h5").string() + ": HDF5 error"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "File too large (EFBIG)")) << r.output;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(temporaries(out.parent_path()).empty());
}

// A real full disk (a 1 MiB tmpfs), where mounting is allowed: ENOSPC.
TEST_F(ArtifactFaultsE2e, ARunOnAFullDiskSaysTheDiskIsFull) {
  const fs::path mnt = *dir_ / "small_disk";
  fs::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  const auto r = run_cli(run_args(mnt));
  const std::string last = last_line(run_dir(mnt) / "run.log");
  const auto left = temporaries(mnt);
  umount(mnt.c_str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "No space left on device (ENOSPC)")) << r.output;
  EXPECT_FALSE(contains(r.output, "Segmentation fault")) << r.output;
  EXPECT_TRUE(contains(last, "No space left on device (ENOSPC)")) << last;
  EXPECT_TRUE(left.empty()) << left.front();
}

// The case: two shards of features.h5 swapped on disk. The run
// refuses them (naming the shard and what it records) and recomputes.
TEST_F(ArtifactFaultsE2e, SwappedShardsAreRecomputedNotReused) {
  const fs::path out = *dir_ / "out_swap";
  const std::string cmd = kMpirun + " " + tc::testing::cli_path().string() + " " +
                          run_args(out, "--stop-after features");
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path s0;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().filename() == "features.shard-0-of-2.h5") s0 = e.path();
  ASSERT_FALSE(s0.empty());
  const fs::path s1 = s0.parent_path() / "features.shard-1-of-2.h5";
  fs::rename(s0, s0.string() + ".x");
  fs::rename(s1, s0);
  fs::rename(s0.string() + ".x", s1);
  r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, s0.string() + " records shard 1 of 2: expected shard 0 of 2"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "recomputing features")) << r.output;
  EXPECT_EQ(tc::io::H5Reader(s0).attr_int("shard"), 0);
}

// ------------------------------------------------- stage-command inputs ----

TEST_F(ArtifactFaultsE2e, StageCommandsRefuseAnArtifactWithAMissingShard) {
  const fs::path out = *dir_ / "out_stage";
  auto r = run_cli(run_args(out, "--stop-after features"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path features;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().filename() == "features.h5") features = e.path();
  ASSERT_FALSE(features.empty());
  const fs::path copy = *dir_ / "stage_in";
  fs::create_directories(copy);
  fs::copy_file(features, copy / "features.h5");  // without its shard
  for (const std::string cmd : {"coreset --greedy_ratio 0.1", "lof"}) {
    r = run_cli(cmd.substr(0, cmd.find(' ')) + " --in " + (copy / "features.h5").string() +
                " --out " + (copy / "o.h5").string() +
                (cmd.find(' ') == std::string::npos ? "" : cmd.substr(cmd.find(' '))));
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.output;  // it read NaN fill values, or zeros
    EXPECT_TRUE(
        contains(r.output, (copy / "features.shard-0-of-1.h5").string() + ", which does not exist"))
        << cmd << ": " << r.output;
    EXPECT_FALSE(fs::exists(copy / "o.h5"));
  }
}

// As h5py makes one (fill value 0): a missing source read as zeros, and the
// command exited 0 with a bank of zero rows.
TEST_F(ArtifactFaultsE2e, StageCommandsRefuseAVirtualDatasetWhoseSourceIsMissing) {
  const fs::path in = *dir_ / "vds.h5";
  {
    const hsize_t dims[2] = {12, 8};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_virtual(dcpl, space, "gone.h5", "features", space);
    const hid_t f = H5Fcreate(in.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(H5Dcreate2(f, "features", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Fclose(f);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  const auto r = run_cli("coreset --in " + in.string() + " --out " +
                         (*dir_ / "vds_out.h5").string() + " --greedy_ratio 0.5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, (*dir_ / "gone.h5").string() + ", which does not exist"))
      << r.output;
  EXPECT_FALSE(fs::exists(*dir_ / "vds_out.h5"));
}

TEST_F(ArtifactFaultsE2e, StageCommandsRefuseExternalStorage) {
  const fs::path in = *dir_ / "external.h5";
  const fs::path secret = *dir_ / "secret.bin";
  std::ofstream(secret) << std::string(12 * 8 * 4, 'S');
  {
    const hsize_t dims[2] = {12, 8};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, secret.c_str(), 0, 12 * 8 * 4);
    const hid_t f = H5Fcreate(in.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(H5Dcreate2(f, "features", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Fclose(f);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  const auto r = run_cli("coreset --in " + in.string() + " --out " +
                         (*dir_ / "ext_out.h5").string() + " --greedy_ratio 0.5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "external file(s) (" + secret.string())) << r.output;
  EXPECT_FALSE(fs::exists(*dir_ / "ext_out.h5"));
}

TEST_F(ArtifactFaultsE2e, AHugeDeclaredShapeIsOneLine) {
  const fs::path in = *dir_ / "huge.h5";
  {
    tc::io::H5Writer w(in, "features", "");
    w.create("features", tc::io::DType::kFloat32, {1000000000000000, 8});
    w.commit();
  }
  const auto r = run_cli("coreset --in " + in.string() + " --out " +
                         (*dir_ / "huge_out.h5").string() + " --greedy_ratio 0.1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(
      contains(r.output, in.string() + ": dataset /features declares shape [1000000000000000, 8]"))
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

}  // namespace
