// Ranks that were started with different plans all stop with one line naming
// the lowest rank that differs and the first line where it does; equal plans pass.
#include "tailedcore/dist/same_plan.h"

#include <gtest/gtest.h>

#include <string>

#include "mpi_testing.h"
#include "tailedcore/core/check.h"

using tc::testing::world;

namespace {

std::string message_of(const std::string& plan) {
  try {
    tc::dist::check_same_plan(world(), plan, "c.yaml");
  } catch (const tc::Error& e) {
    return e.what();
  }
  return "";
}

TEST(SamePlan, EqualPlansPass) { EXPECT_EQ(message_of("model.greedy_ratio: 0.1\ndata: /d\n"), ""); }

TEST(SamePlan, EveryRankStopsNamingTheFirstRankAndLineThatDiffer) {
  const int R = world().size(), me = world().rank();
  // Rank 1 and up differ from rank 0 in their second line, rank 2 also in its first.
  std::string plan = me == 2 ? "seed: 7\n" : "seed: 0\n";
  plan += me == 0 ? "model.greedy_ratio: 0.1\n" : "model.greedy_ratio: 0.2\n";
  plan += "data: /d\n";
  const auto got = message_of(plan);
  if (R == 1) {
    EXPECT_EQ(got, "");
    return;
  }
  EXPECT_NE(
      got.find("c.yaml: rank 1 runs another plan than rank 0: first at 'model.greedy_ratio: 0.2' "
               "(rank 0: 'model.greedy_ratio: 0.1')"),
      std::string::npos)
      << got;
  EXPECT_EQ(got.find('\n'), std::string::npos) << got;
  // A plan that stops early is named too.
  const auto shorter = message_of(me == 1 ? "seed: 0\n" : "seed: 0\nmore: 1\n");
  EXPECT_NE(shorter.find("first at (nothing: its plan ends here) (rank 0: 'more: 1')"),
            std::string::npos)
      << shorter;
}

}  // namespace
