// A greedy stopped right after a checkpoint resumes from it, with the same or
// another rank count, and ends with the picks of an uninterrupted run.
#include "tailedcore/sampling/greedy_checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "mpi_testing.h"
#include "tailedcore/core/check.h"
#include "tailedcore/sampling/coreset.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

tc::dist::Range block(int64_t n) {
  return tc::dist::shard_range(n, world().rank(), world().size());
}

TEST(GreedyCheckpoint, ResumesWithTheSameOrAnotherRankCountToTheSamePicks) {
  torch::manual_seed(31);
  // The resumed stepper rebuilds its cells from the files (greedy_cells.h).
  const auto x = torch::randn({3000, 80}) * torch::linspace(3, 0.1, 80);
  tc::sampling::CoresetOptions o;
  o.ratio = 0.05;  // 150 centres
  o.proj_dim = 0;
  o.seed = 2;
  auto self = tc::dist::make_self_comm();
  const auto want = tc::sampling::greedy_coreset(x, o, *self);
  const auto mine = block(x.size(0));
  const auto local = x.narrow(0, mine.begin, mine.size());
  const auto dir = tc::testing::shared_temp_dir("greedy_ckpt");
  tc::sampling::GreedyCheckpoint ck{dir / "coreset", "run-key", 1e-9};  // a checkpoint every step
  const auto stopped = [&] {
    auto c = ck;
    c.stop_after = 60;
    EXPECT_THROW(tc::sampling::greedy_coreset(local, o, world(), nullptr, c), tc::Error);
    world().barrier();
  };
  // Another rank count: rank 0 alone goes on from the world's files.
  stopped();
  if (world().rank() == 0) {
    tc::sampling::GreedyStats stats;
    const auto got = tc::sampling::greedy_coreset(x, o, *self, &stats, ck);
    EXPECT_EQ(stats.resumed_at, 60);
    EXPECT_TRUE(torch::equal(got, want));
    ck.remove_files();
  }
  world().barrier();
  // The same rank count.
  stopped();
  tc::sampling::GreedyStats stats;
  const auto got = tc::sampling::greedy_coreset(local, o, world(), &stats, ck);
  EXPECT_EQ(stats.resumed_at, 60);
  EXPECT_GT(stats.checkpoints, 0);
  EXPECT_TRUE(torch::equal(got, want));
  // A checkpoint of another greedy (key) is not used.
  auto other = ck;
  other.key = "another-run";
  const auto fresh_stats = [&] {
    tc::sampling::GreedyStats s;
    EXPECT_TRUE(torch::equal(tc::sampling::greedy_coreset(local, o, world(), &s, other), want));
    return s;
  }();
  EXPECT_EQ(fresh_stats.resumed_at, 0);
  world().barrier();
  if (world().rank() == 0) ck.remove_files();
}

}  // namespace
