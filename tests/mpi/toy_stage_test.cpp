// A stage added from outside the library, with the method that reads it: one
// file, one register_stage line and one register_method line. The stage
// writes every training patch's L2 norm (patch_norms.h5); the method names it
// in fit_inputs, so the run makes it before the coreset, and picks its bank
// among the patches of at most the median norm.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/method.h"
#include "tailedcore/pipeline/run.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/synth/synth.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

void run_norms(tc::pipeline::StageContext& ctx) {
  // This rank's rows; their blocks are in rank order, so the gather is image-major.
  const auto norms = ctx.comm.allgatherv(ctx.train_shard.patches.norm(2, 1).contiguous());
  if (ctx.comm.rank() != 0) return;
  tc::io::H5Writer w(ctx.cache.path("patch_norms"), "patch_norms", ctx.cache.config_hash());
  w.write("norms", norms);
  w.commit();
}

const bool stage_registered =
    tc::pipeline::register_stage({"patch_norms", {tc::pipeline::kFeatures}, false, run_norms});

torch::Tensor low_norm_rows(const fs::path& norms_file) {
  const auto norms = tc::io::H5Reader(norms_file).read("norms");
  return torch::nonzero(norms <= norms.median()).flatten();  // ascending global rows
}

class LowNorm final : public tc::models::Method {
 public:
  std::string name() const override { return "lownorm"; }
  std::vector<std::string> fit_inputs(const tc::exp::Plan&) const override {
    return {"patch_norms"};
  }
  tc::models::MemoryBank fit(const tc::models::FitInputs& in, const tc::exp::Plan& plan,
                             tc::dist::Comm& comm) const override {
    return tc::models::greedy_bank(in.train, low_norm_rows(in.artifacts.at("patch_norms")),
                                   plan.head_coreset, comm);
  }
};

const bool method_registered =
    tc::models::register_method("lownorm", [] { return std::make_unique<LowNorm>(); });

tc::pipeline::RunOptions options(const fs::path& dir, const std::string& out) {
  tc::pipeline::RunOptions o;
  o.config_path = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  o.data_dir = dir / "data";
  o.out_root = dir / out;
  o.run_id = "run";
  o.pictures_per_class = 0;
  o.threads = 1;
  o.overrides = {"data.resize=48", "data.imagesize=40", "data.inputsize=40",
                 "model.greedy_ratio=0.05", "model.coreset_model_name=lownorm"};
  return o;
}

TEST(MpiToyStage, RunsBeforeTheCoresetThatReadsIt) {
  ASSERT_TRUE(stage_registered && method_registered);
  const auto dir = tc::testing::shared_temp_dir("toy_stage");
  if (world().rank() == 0) {
    tc::synth::SynthOptions so;
    so.size = 48;
    so.threads = 1;
    tc::synth::generate_synthetic(dir / "data", so);
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(options(dir, "single"), *self);
  }
  world().barrier();
  const auto summary = tc::pipeline::run_experiment(options(dir, "world"), world());
  if (world().rank() != 0) return;
  std::vector<std::string> ran;
  for (const auto& [stage, seconds] : summary.stage_seconds) ran.push_back(stage);
  EXPECT_EQ(ran, (std::vector<std::string>{"features", "test_features", "patch_norms", "coreset",
                                           "scores", "metrics"}));
  const auto run_dir = [&](const std::string& out) {
    return dir / out / "data" / "quickstart" / "run";
  };
  const auto picked = tc::io::H5Reader(run_dir("world") / "coreset.h5").read("coreset_indices");
  EXPECT_TRUE(
      torch::isin(picked, low_norm_rows(run_dir("world") / "patch_norms.h5")).all().item<bool>());
  // The one-process run's norms and bank.
  EXPECT_TRUE(torch::allclose(tc::io::H5Reader(run_dir("single") / "patch_norms.h5").read("norms"),
                              tc::io::H5Reader(run_dir("world") / "patch_norms.h5").read("norms")));
  EXPECT_TRUE(torch::equal(
      tc::io::H5Reader(run_dir("single") / "coreset.h5").read("coreset_indices"), picked));
}

}  // namespace
