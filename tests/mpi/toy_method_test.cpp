// A method added from outside the library: one class and one register_method
// line. It picks its bank from the even training rows only and scores twice
// the default; both hold on a replicated bank and on a sharded one (the
// scores stage hands either placement's neighbours to the method's scorer).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mpi_testing.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/method.h"
#include "tailedcore/models/scorer.h"
#include "tailedcore/pipeline/artifacts.h"
#include "tailedcore/pipeline/run.h"
#include "tailedcore/synth/synth.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

class TwiceScorer final : public tc::models::Scorer {
 public:
  at::Tensor score(const tc::models::Neighbours& nearest) const override {
    return 2 * Scorer::score(nearest);
  }
};

class EvenCore final : public tc::models::Method {
 public:
  std::string name() const override { return "evencore"; }
  tc::models::MemoryBank fit(const tc::models::FitInputs& in, const tc::exp::Plan& plan,
                             tc::dist::Comm& comm) const override {
    const int64_t rows =
        comm.allreduce(torch::tensor({in.train.rows}, torch::kInt64), tc::dist::ReduceOp::kSum)
            .item<int64_t>();
    return tc::models::greedy_bank(in.train, torch::arange(0, rows, 2, torch::kInt64),
                                   plan.head_coreset, comm);
  }
  std::unique_ptr<tc::models::Scorer> scorer(const tc::exp::Plan&) const override {
    return std::make_unique<TwiceScorer>();
  }
};

const bool registered =
    tc::models::register_method("evencore", [] { return std::make_unique<EvenCore>(); });

tc::pipeline::RunOptions options(const fs::path& dir, const std::string& out,
                                 const std::string& budget) {
  tc::pipeline::RunOptions o;
  o.config_path = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  o.data_dir = dir / "data";
  o.out_root = dir / out;
  o.run_id = "run";
  o.pictures_per_class = 0;
  o.threads = 1;
  o.overrides = {"data.resize=48",
                 "data.imagesize=40",
                 "data.inputsize=40",
                 "model.greedy_ratio=0.05",
                 "model.faiss_k_neighbor=3",
                 "model.coreset_model_name=evencore",
                 "model.bank_memory_gb=" + budget};
  return o;
}

fs::path find_file(const fs::path& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().filename() == name) return e.path();
  return {};
}

// Its bank holds even rows only, and each image score is twice the largest
// mean distance of its patches to their 3 nearest bank rows.
void expect_evencore(const fs::path& out, const std::vector<std::string>& classes) {
  const auto run_dir = out / "data" / "quickstart" / "run";
  tc::io::H5Reader bank(run_dir / "coreset.h5");
  EXPECT_EQ(bank.attr_string("model"), "evencore");
  EXPECT_TRUE((bank.read("coreset_indices") % 2 == 0).all().item<bool>());
  tc::index::IndexOptions k3;
  k3.k = 3;
  const tc::index::NearestNeighbors nn(bank.read("coreset").to(torch::kFloat32), k3);
  const tc::pipeline::TestFeaturesReader test(find_file(out, "test_features.h5"));
  tc::io::H5Reader scores(run_dir / "scores.h5");
  for (const auto& cls : classes) {
    const int64_t n = test.file().shape(cls + "/gt_masks")[0];
    const auto patches = test.images(cls, 0, n).patches;
    const auto want = std::get<0>((2 * nn.search(patches).distances.mean(1)).view({n, -1}).max(1));
    EXPECT_TRUE(torch::allclose(scores.read(cls + "/image_scores"), want, 1e-5, 1e-6))
        << out << " " << cls;
  }
}

TEST(MpiToyMethod, ItsBankAndScorerHoldOnBothPlacements) {
  ASSERT_TRUE(registered);
  const auto dir = tc::testing::shared_temp_dir("toy_method");
  if (world().rank() == 0) {
    tc::synth::SynthOptions so;
    so.size = 48;
    so.threads = 1;
    tc::synth::generate_synthetic(dir / "data", so);
    auto self = tc::dist::make_self_comm();
    tc::pipeline::run_experiment(options(dir, "single", "16"), *self);
  }
  world().barrier();
  // A budget below the bank's bytes: sharded over the ranks when there are several.
  const auto summary = tc::pipeline::run_experiment(options(dir, "world", "1e-9"), world());
  if (world().rank() != 0) return;
  std::vector<std::string> classes;
  for (const auto& c : summary.classes) classes.push_back(c.class_name);
  ASSERT_FALSE(classes.empty());
  tc::io::H5Reader placed(dir / "world" / "data" / "quickstart" / "run" / "scores.h5");
  EXPECT_EQ(placed.attr_string("bank_placement"), world().size() > 1 ? "sharded" : "replicated");
  expect_evencore(dir / "single", classes);
  expect_evencore(dir / "world", classes);
}

}  // namespace
