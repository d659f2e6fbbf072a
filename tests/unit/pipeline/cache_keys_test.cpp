#include "tailedcore/pipeline/cache_keys.h"

#include <gtest/gtest.h>

#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"

namespace {

using tc::exp::Affects;
using tc::pipeline::cache_keys;

tc::pipeline::CacheKeys keys_of(const tc::exp::Plan& plan) {
  return cache_keys(plan, "wideresnet50", "/data/mvtec", "inputs");
}

// Every key of the config table moves exactly the cache keys its Affects says:
// a key added to the table is covered by what it declares, with no list to edit.
TEST(CacheKeys, EveryConfigKeyMovesTheKeysItsTableEntrySays) {
  tc::exp::Plan base = tc::exp::make_plan(tc::exp::Config{});
  // With weights the seed changes results only (below: without them, features too).
  base.config.model.backbone_weights = "weights.pt";
  const auto before = keys_of(base);
  int checked = 0;
  for (const auto& k : tc::exp::config_keys()) {
    auto plan = base;
    if (!tc::exp::change_value(plan.config, k.key)) continue;  // accepted, ignored
    const auto after = keys_of(plan);
    const bool features = after.features != before.features;
    const bool run = after.run != before.run;
    // model.device enters resolved: its config spelling alone moves nothing (below).
    if (k.key == "model.device") {
      EXPECT_FALSE(features || run) << k.key;
      continue;
    }
    EXPECT_EQ(features, k.affects == Affects::kFeatures) << k.key;
    EXPECT_EQ(run, k.affects != Affects::kNothing) << k.key;
    EXPECT_EQ(after.feature_dir != before.feature_dir, features) << k.key;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(CacheKeys, ResolvedDeviceAndSeedWithoutWeights) {
  tc::exp::Plan plan = tc::exp::make_plan(tc::exp::Config{});
  const auto cpu = keys_of(plan);
  auto on_gpu = plan;
  on_gpu.device = c10::Device(c10::kCUDA, 1);
  EXPECT_NE(keys_of(on_gpu).features, cpu.features);
  auto other_gpu = on_gpu;
  other_gpu.device = c10::Device(c10::kCUDA, 0);  // which GPU does not change features
  EXPECT_EQ(keys_of(other_gpu).features, keys_of(on_gpu).features);
  auto seeded = plan;
  seeded.config.seed += 1;  // random weights: the seed draws them
  EXPECT_NE(keys_of(seeded).features, cpu.features);
  EXPECT_NE(cache_keys(plan, "wideresnet50", "/data/visa", "inputs").run, cpu.run);
  EXPECT_NE(cache_keys(plan, "wideresnet50", "/data/mvtec", "other").features, cpu.features);
}

}  // namespace
