#include "tailedcore/core/check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <thread>

#include "tailedcore/core/finite.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"

namespace {

TEST(Check, PassingCheckDoesNotThrow) { EXPECT_NO_THROW(TC_CHECK(1 + 1 == 2, "never")); }

TEST(Check, FailingCheckThrowsWithTheValues) {
  const int k = 7;
  try {
    TC_CHECK(k < 5, "k = ", k, ": expected k < 5");
    FAIL() << "no throw";
  } catch (const tc::Error& e) {
    EXPECT_STREQ(e.what(), "k = 7: expected k < 5");
  }
}

TEST(Check, RangeNamesValueAndBounds) {
  try {
    TC_CHECK_RANGE(1.5, 0.0, 1.0, "greedy_ratio");
    FAIL() << "no throw";
  } catch (const tc::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "greedy_ratio = 1.5 is out of range: expected 0 <= greedy_ratio <= 1");
  }
  EXPECT_NO_THROW(TC_CHECK_RANGE(0.5, 0.0, 1.0, "greedy_ratio"));
}

TEST(Check, AssertCarriesLocation) {
  try {
    TC_ASSERT(false, "detail");
    FAIL() << "no throw";
  } catch (const tc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("check_test.cpp"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("detail"), std::string::npos);
  }
}

TEST(Log, LevelsParseAndUnknownIsAnError) {
  EXPECT_EQ(tc::core::parse_log_level("warn"), tc::core::LogLevel::kWarn);
  EXPECT_THROW(tc::core::parse_log_level("loud"), tc::Error);
}

TEST(Log, NonZeroRanksPrintOnlyWarningsByDefault) {
  tc::core::set_log_rank(1, 3);
  tc::core::set_log_level(tc::core::LogLevel::kInfo);
  EXPECT_FALSE(tc::core::log_enabled(tc::core::LogLevel::kInfo));
  EXPECT_TRUE(tc::core::log_enabled(tc::core::LogLevel::kWarn));
  tc::core::set_log_all_ranks(true);
  EXPECT_TRUE(tc::core::log_enabled(tc::core::LogLevel::kInfo));
  tc::core::set_log_all_ranks(false);
  tc::core::set_log_rank(0, 1);
  EXPECT_TRUE(tc::core::log_enabled(tc::core::LogLevel::kInfo));
}

TEST(Runtime, ThreadCountHonoursEnvironment) {
  setenv("TAILEDCORE_THREADS", "3", 1);
  EXPECT_EQ(tc::core::default_thread_count(), 3);
  unsetenv("TAILEDCORE_THREADS");
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "64", 1);
  EXPECT_EQ(tc::core::local_rank_count(), 64);
  EXPECT_EQ(tc::core::default_thread_count(), 1);  // never below one
  unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  setenv("TAILEDCORE_THREADS", "many", 1);
  EXPECT_THROW(tc::core::default_thread_count(), tc::Error);
  unsetenv("TAILEDCORE_THREADS");
}

TEST(Runtime, SingleRankThreadCountIgnoresTheRankCount) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4", 1);  // four ranks here: each gets cores / 4 ...
  EXPECT_EQ(tc::core::default_thread_count(), std::max(1, cores / 4));
  EXPECT_EQ(tc::core::single_rank_thread_count(), cores);  // ... one rank would get them all
  EXPECT_EQ(tc::core::single_rank_thread_count(5), 5);     // an explicit request stands
  setenv("TAILEDCORE_THREADS", "3", 1);
  EXPECT_EQ(tc::core::single_rank_thread_count(), 3);
  unsetenv("TAILEDCORE_THREADS");
  unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
}

}  // namespace

TEST(Finite, FirstNonFiniteRowFindsNanAndInfAcrossBlocks) {
  auto rows = torch::zeros({5, 3});
  EXPECT_EQ(tc::core::first_nonfinite_row(rows), -1);
  rows[3][1] = NAN;
  EXPECT_EQ(tc::core::first_nonfinite_row(rows), 3);
  rows[1][2] = -INFINITY;
  EXPECT_EQ(tc::core::first_nonfinite_row(rows), 1);
  EXPECT_EQ(tc::core::first_nonfinite_row(torch::zeros({4}, torch::kInt64)), -1);
  auto maps = torch::zeros({3, 4, 4}, torch::kFloat16);  // rows are the first dim, any rank
  maps[2][3][3] = INFINITY;
  EXPECT_EQ(tc::core::first_nonfinite_row(maps), 2);
}

TEST(Finite, CheckNamesTheItemOfTheBadRow) {
  auto rows = torch::zeros({6, 2});  // 3 images x 2 patch rows
  rows[5][0] = NAN;
  try {
    tc::core::check_finite_rows(
        rows, 2, [](int64_t i) { return "image img" + std::to_string(i); }, "features.h5");
    FAIL() << "no throw";
  } catch (const tc::Error& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("features.h5: image img2 has a NaN or Inf value (row 5)", 0),
        0u)
        << e.what();
  }
}
