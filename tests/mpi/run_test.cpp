// A full tiny TailedCore run (features, tail, lof, tail views, coreset,
// scores) over the world's ranks gives the one-process result.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/data/nlt.h"
#include "tailedcore/data/synth.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/pipeline/run.h"
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
  o.overrides = {"data.resize=48", "data.imagesize=40", "data.inputsize=40", "model.greedy_ratio=0.05"};
  return o;
}

TEST(MpiRun, TailedCoreRunIsRankInvariant) {
  const auto dir = tc::testing::shared_temp_dir("run");
  if (world().rank() == 0) {
    tc::data::SynthOptions so;
    so.size = 48;
    so.threads = 1;
    tc::data::generate_synthetic(dir / "small", so);
    tc::data::NltMakeOptions no;
    no.seed = 1;
    tc::data::make_nlt(dir / "small", dir / "data", no);
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(options(dir, "single"), *self);
  }
  world().barrier();
  const auto summary = tc::pipeline::run_experiment(options(dir, "world"), world());
  if (world().rank() != 0) return;
  const auto run_dir = [&](const std::string& out) { return dir / out / "data" / "quickstart" / "run"; };
  tc::io::H5Reader a(run_dir("single") / "tail.h5"), b(run_dir("world") / "tail.h5");
  EXPECT_TRUE(torch::equal(a.read("tail_indices"), b.read("tail_indices")));
  tc::io::H5Reader ca(run_dir("single") / "coreset.h5"), cb(run_dir("world") / "coreset.h5");
  EXPECT_TRUE(torch::equal(ca.read("coreset_indices"), cb.read("coreset_indices")));
  EXPECT_EQ(ca.attr_int("tail_rows"), cb.attr_int("tail_rows"));
  tc::io::H5Reader sa(run_dir("single") / "scores.h5"), sb(run_dir("world") / "scores.h5");
  for (const std::string cls : {"checker", "disc", "grain", "mesh", "speckle", "stripes"}) {
    EXPECT_TRUE(torch::allclose(sa.read(cls + "/image_scores"), sb.read(cls + "/image_scores"), 1e-5, 1e-6)) << cls;
    EXPECT_TRUE(torch::allclose(sa.read(cls + "/anomaly_maps").to(torch::kFloat32),
                                sb.read(cls + "/anomaly_maps").to(torch::kFloat32), 1e-3, 1e-3)) << cls;
  }
  EXPECT_EQ(summary.classes.size(), 6u);
}

}  // namespace
