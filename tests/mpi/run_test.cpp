// A full tiny TailedCore run (features, tail, lof, tail views, coreset,
// scores) over the world's ranks gives the one-process result.
#include "tailedcore/pipeline/run.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "mpi_testing.h"
#include "tailedcore/datasets/nlt.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"
#include "tailedcore/synth/synth.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

tc::pipeline::RunOptions options(const fs::path& dir, const std::string& out) {
  tc::pipeline::RunOptions o;
  o.config_path = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  o.data_dir = dir / "data";
  o.out_root = dir / out;
  o.run_id = "run";
  o.pictures_per_class = 0;
  o.threads = 1;
  o.overrides = {"data.resize=48", "data.imagesize=40", "data.inputsize=40",
                 "model.greedy_ratio=0.05"};
  return o;
}

// <dir>/data: the small synthetic layout at 48 px, made noisy long-tailed.
void make_data(const fs::path& dir) {
  tc::synth::SynthOptions so;
  so.size = 48;
  so.threads = 1;
  tc::synth::generate_synthetic(dir / "small", so);
  tc::datasets::NltMakeOptions no;
  no.seed = 1;
  tc::datasets::make_nlt(dir / "small", dir / "data", no);
}

TEST(MpiRun, TailedCoreRunIsRankInvariant) {
  const auto dir = tc::testing::shared_temp_dir("run");
  if (world().rank() == 0) {
    make_data(dir);
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(options(dir, "single"), *self);
  }
  world().barrier();
  const auto summary = tc::pipeline::run_experiment(options(dir, "world"), world());
  if (world().rank() != 0) return;
  const auto run_dir = [&](const std::string& out) {
    return dir / out / "data" / "quickstart" / "run";
  };
  tc::io::H5Reader a(run_dir("single") / "tail.h5"), b(run_dir("world") / "tail.h5");
  EXPECT_TRUE(torch::equal(a.read("tail_indices"), b.read("tail_indices")));
  tc::io::H5Reader ca(run_dir("single") / "coreset.h5"), cb(run_dir("world") / "coreset.h5");
  EXPECT_TRUE(torch::equal(ca.read("coreset_indices"), cb.read("coreset_indices")));
  EXPECT_EQ(ca.attr_int("tail_rows"), cb.attr_int("tail_rows"));
  tc::io::H5Reader sa(run_dir("single") / "scores.h5"), sb(run_dir("world") / "scores.h5");
  for (const std::string cls : {"checker", "disc", "grain", "mesh", "speckle", "stripes"}) {
    EXPECT_TRUE(
        torch::allclose(sa.read(cls + "/image_scores"), sb.read(cls + "/image_scores"), 1e-5, 1e-6))
        << cls;
    EXPECT_TRUE(torch::allclose(sa.read(cls + "/anomaly_maps").to(torch::kFloat32),
                                sb.read(cls + "/anomaly_maps").to(torch::kFloat32), 1e-3, 1e-3))
        << cls;
  }
  EXPECT_EQ(summary.classes.size(), 6u);
}

// SoftPatch (a weighted bank) with the bank sharded for scoring (a budget
// below its size): every rank searches its part for every query, and the
// scores are the one-process (replicated) ones.
TEST(MpiRun, ShardedBankScoringGivesTheReplicatedScores) {
  const auto dir = tc::testing::shared_temp_dir("sharded_bank");
  const auto opts = [&](const std::string& out, const std::string& budget) {
    auto o = options(dir, out);
    o.overrides.push_back("model.coreset_model_name=softpatch");
    o.overrides.push_back("model.faiss_k_neighbor=3");
    o.overrides.push_back("model.bank_memory_gb=" + budget);
    return o;
  };
  if (world().rank() == 0) {
    make_data(dir);
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(opts("single", "16"), *self);
  }
  world().barrier();
  const auto summary = tc::pipeline::run_experiment(opts("world", "1e-9"), world());
  if (world().rank() != 0) return;
  const auto run_dir = [&](const std::string& out) {
    return dir / out / "data" / "quickstart" / "run";
  };
  tc::io::H5Reader sa(run_dir("single") / "scores.h5"), sb(run_dir("world") / "scores.h5");
  EXPECT_EQ(sa.attr_string("bank_placement"), "replicated");
  EXPECT_EQ(sb.attr_string("bank_placement"), world().size() > 1 ? "sharded" : "replicated");
  for (const auto& cls : summary.classes) {
    EXPECT_TRUE(torch::allclose(sa.read(cls.class_name + "/image_scores"),
                                sb.read(cls.class_name + "/image_scores"), 1e-5, 1e-6))
        << cls.class_name;
    EXPECT_TRUE(torch::allclose(sa.read(cls.class_name + "/anomaly_maps"),
                                sb.read(cls.class_name + "/anomaly_maps"), 1e-3, 1e-3))
        << cls.class_name;
  }
  EXPECT_EQ(summary.classes.size(), 6u);
}

// Native resolution: no resize, no crop, images 48 wide and 32 high, so the
// patch grid, LOF's positions, the views and the maps are all non-square.
TEST(MpiRun, NativeResolutionNonSquareRunIsRankInvariant) {
  const auto dir = tc::testing::shared_temp_dir("native");
  const std::vector<std::string> native = {
      "data.resize=full", "data.imagesize=full", "data.inputsize=full",
      "model.tail_data_augment_type=rot45flip", "model.greedy_ratio=0.05"};
  const auto opts = [&](const std::string& out) {
    auto o = options(dir, out);
    o.overrides = native;
    return o;
  };
  if (world().rank() == 0) {
    make_data(dir);
    for (const auto& e : fs::recursive_directory_iterator(dir / "data")) {
      if (e.path().extension() != ".png") continue;
      const auto img = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
      ASSERT_FALSE(img.empty()) << e.path();
      const cv::Mat band = img(cv::Rect(0, 8, 48, 32)).clone();
      fs::remove(e.path());  // a link into the source tree stays as it was
      ASSERT_TRUE(cv::imwrite(e.path().string(), band)) << e.path();
    }
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(opts("single"), *self);
  }
  world().barrier();
  const auto summary = tc::pipeline::run_experiment(opts("world"), world());
  if (world().rank() != 0) return;
  const auto run_dir = [&](const std::string& out) {
    return dir / out / "data" / "quickstart" / "run";
  };
  tc::io::H5Reader ca(run_dir("single") / "coreset.h5"), cb(run_dir("world") / "coreset.h5");
  EXPECT_TRUE(torch::equal(ca.read("coreset_indices"), cb.read("coreset_indices")));
  // Each rank wrote its own feature shard: features.h5 and test_features.h5
  // hold virtual datasets over the world's shards, equal to the one-process files.
  const auto artifact = [&](const std::string& out, const std::string& name) {
    for (const auto& e : fs::recursive_directory_iterator(dir / out / "data" / "features"))
      if (e.path().filename() == name) return e.path();
    return fs::path();
  };
  for (const std::string name : {"features.h5", "test_features.h5"}) {
    const auto one = artifact("single", name), many = artifact("world", name);
    ASSERT_FALSE(many.empty()) << name;
    const std::string ds =
        name == "features.h5" ? "features" : summary.classes.front().class_name + "/features";
    EXPECT_EQ(static_cast<int>(tc::io::virtual_pieces(many, ds).size()), world().size()) << name;
    // Equal to float rounding: a rank's batches differ from one process's
    // (the backbone's kernels may round a batch differently), as before sharding.
    const auto a = tc::io::H5Reader(one).read(ds), b = tc::io::H5Reader(many).read(ds);
    ASSERT_EQ(a.sizes(), b.sizes()) << name;
    EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-5))
        << name << ": max difference " << (a - b).abs().max().item<float>();
  }
  tc::io::H5Reader sa(run_dir("single") / "scores.h5"), sb(run_dir("world") / "scores.h5");
  for (const auto& cls : summary.classes) {
    const auto maps = sa.read(cls.class_name + "/anomaly_maps");
    EXPECT_EQ(maps.size(1), 32);
    EXPECT_EQ(maps.size(2), 48);
    EXPECT_TRUE(torch::allclose(sa.read(cls.class_name + "/image_scores"),
                                sb.read(cls.class_name + "/image_scores"), 1e-5, 1e-6))
        << cls.class_name;
    EXPECT_TRUE(torch::allclose(maps, sb.read(cls.class_name + "/anomaly_maps"), 1e-3, 1e-3))
        << cls.class_name;
  }
  EXPECT_EQ(summary.classes.size(), 6u);
}

// Mixed native sizes: three classes at 48x32 and three at 40x40 pooled at
// `full`, TailedCore with rotflip (3 views of a non-square tail image, 7 of a
// square one) and TailedLOF, then SoftPatch: the world's result is the one
// process's.
TEST(MpiRun, MixedNativeSizesRunIsRankInvariant) {
  const auto dir = tc::testing::shared_temp_dir("mixed");
  const auto opts = [&](const std::string& out, const std::string& method) {
    auto o = options(dir, out + "_" + method);
    o.overrides = {"data.resize=full",        "data.imagesize=full",
                   "data.inputsize=full",     "model.tail_data_augment_type=rotflip",
                   "model.tail_lof=true",     "model.tail_th_type=symmin",
                   "model.greedy_ratio=0.05", "model.coreset_model_name=" + method};
    return o;
  };
  if (world().rank() == 0) {
    make_data(dir);
    for (const auto& e : fs::recursive_directory_iterator(dir / "data")) {
      if (e.path().extension() != ".png") continue;
      const auto rel = fs::relative(e.path(), dir / "data").begin()->string();
      const bool wide = rel == "checker" || rel == "disc" || rel == "grain";
      const auto img = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
      ASSERT_FALSE(img.empty()) << e.path();
      const cv::Mat part = img(wide ? cv::Rect(0, 8, 48, 32) : cv::Rect(4, 4, 40, 40)).clone();
      fs::remove(e.path());  // a link into the source tree stays as it was
      ASSERT_TRUE(cv::imwrite(e.path().string(), part)) << e.path();
    }
    auto self = tc::dist::make_self_comm();
    for (const std::string m : {"tailedcore", "softpatch"})
      tc::pipeline::run_experiment(opts("single", m), *self);
  }
  world().barrier();
  for (const std::string m : {"tailedcore", "softpatch"}) {
    const auto summary = tc::pipeline::run_experiment(opts("world", m), world());
    if (world().rank() != 0) continue;
    const auto run_dir = [&](const std::string& out) {
      return dir / (out + "_" + m) / "data" / "quickstart" / "run";
    };
    tc::io::H5Reader la(run_dir("single") / "lof.h5"), lb(run_dir("world") / "lof.h5");
    EXPECT_TRUE(torch::equal(la.read("kept_indices"), lb.read("kept_indices"))) << m;
    tc::io::H5Reader ca(run_dir("single") / "coreset.h5"), cb(run_dir("world") / "coreset.h5");
    EXPECT_TRUE(torch::equal(ca.read("coreset_indices"), cb.read("coreset_indices"))) << m;
    tc::io::H5Reader sa(run_dir("single") / "scores.h5"), sb(run_dir("world") / "scores.h5");
    for (const auto& cls : summary.classes) {
      const bool wide =
          cls.class_name == "checker" || cls.class_name == "disc" || cls.class_name == "grain";
      const auto maps = sa.read(cls.class_name + "/anomaly_maps");
      EXPECT_EQ(maps.size(1), wide ? 32 : 40) << cls.class_name;
      EXPECT_EQ(maps.size(2), wide ? 48 : 40) << cls.class_name;
      EXPECT_TRUE(torch::allclose(sa.read(cls.class_name + "/image_scores"),
                                  sb.read(cls.class_name + "/image_scores"), 1e-5, 1e-6))
          << m << " " << cls.class_name;
      EXPECT_TRUE(torch::allclose(maps, sb.read(cls.class_name + "/anomaly_maps"), 1e-3, 1e-3))
          << m << " " << cls.class_name;
    }
    EXPECT_EQ(summary.classes.size(), 6u);
  }
}

}  // namespace
