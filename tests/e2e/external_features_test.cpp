// The stage commands on files made elsewhere: a features file written by h5py
// with only the datasets and the patch grid (tests/fixtures/features/
// make_h5py_features.py), and broken HDF5 (truncated, not HDF5), which must be
// one line on stderr naming the file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;

namespace {

const fs::path kFeatures = tc::testing::fixtures_dir() / "features" / "h5py_features.h5";
constexpr int64_t kImages = 12, kPatches = 3 * 4, kDim = 32;

TEST(ExternalFeatures, TailLofAndCoresetRunOnAnH5pyFile) {
  tc::testing::TempDir dir;
  const tc::io::H5Reader in(kFeatures);
  ASSERT_FALSE(in.has_attr("config_hash"));  // the point of the fixture
  const auto features = in.read("features"), embeddings = in.read("embeddings");
  ASSERT_EQ(features.sizes(), (std::vector<int64_t>{kImages * kPatches, kDim}));
  const std::string external = "external-" + tc::io::hash_file(kFeatures);
  const std::string arg_in = " --in " + kFeatures.string() + " --threads 1";
  auto comm = tc::dist::make_self_comm();

  auto r = run_cli("tail" + arg_in + " --out " + (dir / "tail.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const tc::io::H5Reader tail(dir / "tail.h5");
  const auto want_tail = tc::sampling::select_tail(embeddings, {}, *comm);
  EXPECT_EQ(tail.shape("class_sizes"), (std::vector<int64_t>{kImages}));
  EXPECT_TRUE(torch::equal(tail.read("tail_indices"), want_tail.tail_indices));
  // The fixture's clusters hold 7, 4 and 1 images; 15 % of 12 images leaves max_K = 1.
  EXPECT_TRUE(
      torch::equal(tail.read("class_sizes"),
                   torch::tensor({7.f, 7.f, 7.f, 7.f, 7.f, 7.f, 7.f, 4.f, 4.f, 4.f, 4.f, 1.f})));
  EXPECT_TRUE(torch::equal(tail.read("tail_indices"), torch::tensor({int64_t{11}})))
      << tail.read("tail_indices");
  EXPECT_EQ(tail.attr_string("config_hash"), external);

  r = run_cli("lof" + arg_in + " --out " + (dir / "lof.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const tc::io::H5Reader lof(dir / "lof.h5");
  const auto want_lof = tc::sampling::patchwise_lof(features, kPatches, {}, *comm);
  const auto kept = lof.read("kept_indices");
  EXPECT_TRUE(torch::allclose(lof.read("lof_scores"), want_lof.scores));
  EXPECT_TRUE(torch::equal(kept, want_lof.kept_indices));
  EXPECT_GT(kept.size(0), 0);
  EXPECT_LT(kept.size(0), kImages * kPatches);
  EXPECT_EQ(lof.attr_string("config_hash"), external);

  r = run_cli("coreset" + arg_in + " --out " + (dir / "pc.h5").string() +
              " --greedy_ratio 0.1 --start-index 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const tc::io::H5Reader pc(dir / "pc.h5");
  tc::sampling::CoresetOptions co;
  co.start_index = 2;
  const auto want_idx = tc::sampling::greedy_coreset(features, co, *comm);
  const auto idx = pc.read("coreset_indices");
  EXPECT_TRUE(torch::equal(idx, want_idx));
  EXPECT_EQ(idx.size(0), kImages * kPatches / 10);
  EXPECT_TRUE(torch::equal(pc.read("coreset"), features.index_select(0, idx)));
  EXPECT_EQ(pc.attr_string("config_hash"), external);

  r = run_cli("coreset" + arg_in + " --out " + (dir / "sp.h5").string() +
              " --greedy_ratio 0.1 --weights " + (dir / "lof.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const tc::io::H5Reader sp(dir / "sp.h5");
  const auto sp_idx = sp.read("coreset_indices");
  EXPECT_EQ(sp_idx.size(0), kept.size(0) / 10);
  EXPECT_TRUE(torch::isin(sp_idx, kept).all().item<bool>()) << sp_idx;  // only kept rows
  EXPECT_TRUE(torch::equal(sp.read("coreset"), features.index_select(0, sp_idx)));
  EXPECT_TRUE(torch::equal(sp.read("weights"), lof.read("lof_scores").index_select(0, sp_idx)));
}

// stderr alone (stdout dropped), as the user's terminal shows it.
tc::testing::CommandResult run_cli_stderr(const std::string& args) {
  return tc::testing::run_command("{ " + tc::testing::cli_path().string() + " " + args +
                                  " 2>&1 >/dev/null; }");
}

TEST(ExternalFeatures, TruncatedOrNonHdf5InputIsOneLineOnStderr) {
  tc::testing::TempDir dir;
  const fs::path cut = dir / "cut.h5", text = dir / "notes.h5";
  fs::copy_file(kFeatures, cut);
  fs::resize_file(cut, fs::file_size(kFeatures) * 2 / 3);
  std::ofstream(text) << "feature_h,feature_w\n3,4\n";
  for (const fs::path& bad : {cut, text})
    for (const std::string command : {"tail", "lof", "coreset"}) {
      const auto r = run_cli_stderr(command + " --in " + bad.string() + " --out " +
                                    (dir / "out.h5").string() + " --threads 1");
      const std::string what = command + " " + bad.filename().string();
      EXPECT_NE(r.exit_code, 0) << what;
      ASSERT_FALSE(r.output.empty()) << what;
      EXPECT_EQ(r.output.find('\n'), r.output.size() - 1)
          << what << ": " << r.output;  // exactly one line
      EXPECT_NE(r.output.find(bad.string() + ": "), std::string::npos) << what << ": " << r.output;
      EXPECT_NE(r.output.find("expected"), std::string::npos) << what << ": " << r.output;
      EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << what << ": " << r.output;
      EXPECT_FALSE(fs::exists(dir / "out.h5")) << what;
    }
}

}  // namespace
