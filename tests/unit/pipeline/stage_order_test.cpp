// Which stages a run needs follows from what each reads: scores and,
// transitively, its inputs, the coreset reading the method's fit_inputs.
#include <gtest/gtest.h>

#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/models/method.h"
#include "tailedcore/pipeline/stage.h"
#include "testing.h"

namespace {

using V = std::vector<std::string>;

V order_of(const std::string& method, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets = {"model.coreset_model_name=" + method};
  sets.insert(sets.end(), extra.begin(), extra.end());
  const auto plan = tc::exp::make_plan(tc::exp::parse_config("", sets, "test"));
  return tc::pipeline::stage_order(*tc::models::make_method(method, "x"), plan);
}

TEST(StageOrder, PerMethod) {
  EXPECT_EQ(order_of("patchcore"), (V{"features", "coreset", "test_features", "scores"}));
  EXPECT_EQ(order_of("softpatch"), (V{"features", "lof", "coreset", "test_features", "scores"}));
  EXPECT_EQ(
      order_of("tailedcore", {"model.tail_th_type=symmin", "model.tail_data_augment_type=rotflip"}),
      (V{"features", "tail", "lof", "tail_features", "coreset", "test_features", "scores"}));
  // No tail rule: the head branch alone.
  EXPECT_EQ(order_of("tailedcore"), order_of("softpatch"));
}

TEST(StageOrder, NamesAreTheStages) {
  const auto ids = tc::pipeline::stage_ids();
  EXPECT_EQ(V(ids.begin(), ids.begin() + 7),
            (V{"features", "tail", "lof", "tail_features", "coreset", "test_features", "scores"}));
  for (const auto& id : ids) EXPECT_EQ(tc::pipeline::stage(id, "--stop-after").id, id);
  EXPECT_NE(tc::testing::error_of([] { tc::pipeline::stage("coreest", "--stop-after"); })
                .find("--stop-after 'coreest' is not a stage: expected one of features, tail, lof, "
                      "tail_features, coreset, test_features, scores"),
            std::string::npos);
}

}  // namespace
