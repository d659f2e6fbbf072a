// The methods behind models::Method: chosen by name in one place, the artifacts
// each one reads, and how each fits its bank from those stages' outputs.
#include "tailedcore/models/method.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/lof.h"
#include "testing.h"

namespace {

tc::exp::Plan plan_for(const std::string& method, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets = {"model.coreset_model_name=" + method, "model.greedy_ratio=0.25"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return tc::exp::make_plan(tc::exp::parse_config("", sets, "test"));
}

torch::Tensor patches(int64_t n, int64_t d) {
  torch::manual_seed(7);
  return torch::randn({n, d}).relu();
}

}  // namespace

TEST(Method, UnknownNameListsTheKnownOnes) {
  const auto e = tc::testing::error_of(
      [] { tc::models::make_method("fastcore", "c.yaml: model.coreset_model_name"); });
  EXPECT_EQ(e,
            "c.yaml: model.coreset_model_name: 'fastcore' is unknown: expected one of patchcore, "
            "softpatch, tailedcore");
  for (const auto& name : tc::models::method_names())
    EXPECT_EQ(tc::models::make_method(name, "x")->name(), name);
}

TEST(Method, FitInputsPerMethod) {
  using V = std::vector<std::string>;
  const auto inputs = [](const std::string& m, const std::vector<std::string>& extra = {}) {
    return tc::models::make_method(m, "x")->fit_inputs(plan_for(m, extra));
  };
  EXPECT_EQ(inputs("patchcore"), V{});
  EXPECT_EQ(inputs("softpatch"), V{"lof"});
  EXPECT_EQ(
      inputs("tailedcore", {"model.tail_th_type=symmin", "model.tail_data_augment_type=rotflip"}),
      (V{"lof", "tail_features"}));
  // No tail rule: the head branch alone.
  EXPECT_EQ(inputs("tailedcore"), inputs("softpatch"));
}

TEST(Method, FitsFollowTheirDefinitions) {
  auto comm = tc::dist::make_self_comm();
  const auto x = patches(96, 8);
  const auto plan = plan_for("softpatch");
  const auto lof = tc::sampling::patchwise_lof(x, 4, plan.lof, *comm);
  tc::models::FitInputs in;
  in.train = tc::models::LocalRows::of(x, 0);
  in.lof = &lof;

  // PatchCore: the greedy coreset of every row, unweighted.
  const auto pc_plan = plan_for("patchcore");
  const auto pc = tc::models::make_method("patchcore", "x")->fit(in, pc_plan, *comm);
  const auto want =
      tc::models::greedy_bank(tc::models::LocalRows::of(x, 0), {}, pc_plan.head_coreset, *comm);
  EXPECT_TRUE(torch::equal(pc.source_rows, want.source_rows));
  EXPECT_FALSE(pc.weights.defined());

  // SoftPatch: only LOF's kept rows, each weighted by its LOF score.
  const auto sp = tc::models::make_method("softpatch", "x")->fit(in, plan, *comm);
  EXPECT_TRUE(torch::isin(sp.source_rows, lof.kept_indices).all().item<bool>());
  EXPECT_TRUE(torch::equal(sp.weights, lof.scores.index_select(0, sp.source_rows)));

  // TailedCore: the tail file's coreset first, then the head's (LOF-kept, unweighted).
  tc::testing::TempDir tmp;
  const auto tail_rows = patches(40, 8) + 3;
  {
    tc::io::H5Writer w(tmp.path() / "tail_features.h5", "tail_features", "k");
    w.write("features", tail_rows);
    w.commit();
  }
  in.artifacts["tail_features"] = tmp.path() / "tail_features.h5";
  const auto tc_plan = plan_for("tailedcore", {"model.tail_th_type=symmin"});
  const auto tb = tc::models::make_method("tailedcore", "x")->fit(in, tc_plan, *comm);
  const auto head = tc::models::greedy_bank(tc::models::LocalRows::of(x, 0), lof.kept_indices,
                                            tc_plan.head_coreset, *comm);
  EXPECT_EQ(tb.tail_rows, 10);  // int(40 * 0.25)
  EXPECT_EQ(tb.rows(), 10 + head.rows());
  EXPECT_TRUE(torch::equal(tb.source_rows.narrow(0, 10, head.rows()), head.source_rows));
  EXPECT_FALSE(tb.weights.defined());
}

// LOF that keeps no patch (all scores equal): one line, not a LibTorch check.
TEST(Method, SoftPatchWithNoKeptPatchIsOneLine) {
  auto comm = tc::dist::make_self_comm();
  const auto x = patches(96, 8);
  tc::sampling::LofResult lof{torch::ones({96}), torch::empty({0}, torch::kInt64)};
  tc::models::FitInputs in;
  in.train = tc::models::LocalRows::of(x, 0);
  in.lof = &lof;
  const auto e = tc::testing::error_of(
      [&] { tc::models::make_method("softpatch", "x")->fit(in, plan_for("softpatch"), *comm); });
  EXPECT_NE(e.find("softpatch: LOF kept none of the 96 training patches"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}
