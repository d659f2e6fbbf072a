// Shipped configs against the reference ones, null spellings, and more error cases.
#include <gtest/gtest.h>

#include "config_error.h"
#include "tailedcore/core/check.h"
#include "tailedcore/exp/config.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::exp::parse_config;

namespace {

using tc::testing::config_error;

TEST(ConfigValues, ShippedConfigsResolveLikeTheReferenceOnes) {
  const fs::path ours = tc::testing::fixtures_dir() / ".." / ".." / "configs";
  const fs::path ref = tc::testing::reference_dir() / "configs";
  for (const auto& [mine, theirs] : std::vector<std::pair<std::string, std::string>>{
           {"patchcore.yaml", "patchcore.yaml"},
           {"softpatch.yaml", "softpatch_mvtec.yaml"},
           {"tailedcore_mvtec.yaml", "tailedcore_mvtec.yaml"},
           {"tailedcore_mvtec_pareto.yaml", "tailedcore_mvtec_pareto.yaml"},
           {"tailedcore_visa.yaml", "tailedcore_visa.yaml"}}) {
    EXPECT_EQ(tc::exp::to_yaml(tc::exp::load_config(ours / mine, {})),
              tc::exp::to_yaml(tc::exp::load_config(ref / theirs, {})))
        << mine;
  }
  // SPEC 7: which augmentation each TailedCore config uses.
  EXPECT_EQ(tc::exp::load_config(ours / "tailedcore_mvtec.yaml", {}).model.tail_data_augment_type,
            "rot15flip");
  EXPECT_EQ(tc::exp::load_config(ours / "tailedcore_visa.yaml", {}).model.tail_data_augment_type,
            "rotflip");
  EXPECT_EQ(tc::exp::load_config(ours / "softpatch.yaml", {}).model.coreset_model_name,
            "softpatch");
  EXPECT_EQ(tc::exp::load_config(ours / "patchcore.yaml", {}).model.embedding_to_extract_from, "");
}

TEST(ConfigValues, NullSpellingsMeanNoValue) {
  for (const char* v : {"null", "~", "", "Null"}) {
    const auto cfg = parse_config(
        std::string("model:\n  tail_th_type: ") + v + "\n  tail_data_augment_type: " + v + "\n", {},
        "c");
    EXPECT_EQ(cfg.model.tail_th_type, "") << v;
    EXPECT_EQ(cfg.model.tail_data_augment_type, "") << v;
  }
  EXPECT_EQ(
      parse_config("", {"model.embedding_to_extract_from=~"}, "c").model.embedding_to_extract_from,
      "");
  // Defaults of an empty file.
  const auto d = parse_config("", {}, "c");
  EXPECT_EQ(d.model.coreset_model_name, "patchcore");
  EXPECT_DOUBLE_EQ(d.model.greedy_ratio, 0.1);
  EXPECT_EQ(d.model.lof_k, 6);
  EXPECT_EQ(d.data.resize, 256);
}

TEST(ConfigValues, MoreErrorsNameKeyValueAndExpectation) {
  // Nested typo and a typo of a section.
  EXPECT_NE(config_error("data:\n  imgsize: 224\n").find("did you mean 'data.imagesize'"),
            std::string::npos);
  EXPECT_NE(config_error("modle:\n  greedy_ratio: 0.1\n").find("unknown key 'modle"),
            std::string::npos);
  // Wrong types.
  auto e = config_error("model:\n  greedy_ratio: lots\n");
  EXPECT_NE(e.find("model.greedy_ratio"), std::string::npos) << e;
  EXPECT_NE(e.find("lots"), std::string::npos) << e;
  EXPECT_NE(e.find("a number"), std::string::npos) << e;
  e = config_error("model:\n  tail_lof: maybe\n");
  EXPECT_NE(e.find("model.tail_lof"), std::string::npos) << e;
  EXPECT_NE(e.find("true or false"), std::string::npos) << e;
  EXPECT_NE(config_error("model:\n  backbone_names: wideresnet50\n").find("expected a list"),
            std::string::npos);
  EXPECT_NE(config_error("data:\n  batch_size: 2.5\n").find("an integer"), std::string::npos);
  // Ranges and choices, from the file and from --set.
  EXPECT_NE(config_error("model:\n  greedy_ratio: 0\n").find("expected a ratio in (0, 1]"),
            std::string::npos);
  e = config_error("", {"model.tail_th_type=trim_min"});
  EXPECT_NE(e.find("'trim_min' is unknown: expected one of null, ada_trim_min-mode, symmin, "
                   "double_max_step"),
            std::string::npos)
      << e;
  e = config_error("model:\n  tail_data_augment_type: rot90flip\n");
  EXPECT_NE(e.find("rot15flip, rot30flip, rot45flip, rotflip"), std::string::npos) << e;
  EXPECT_NE(config_error("", {"seed=x"}).find("seed: value 'x' is not an integer"),
            std::string::npos);
}

TEST(ConfigValues, OverridesWinOverTheFileAndChangeTheResolvedText) {
  const std::string file = "seed: 1\nmodel:\n  greedy_ratio: 0.1\n";
  const auto base = parse_config(file, {}, "c");
  const auto over = parse_config(file, {"model.greedy_ratio=0.2", "seed=7"}, "c");
  EXPECT_DOUBLE_EQ(over.model.greedy_ratio, 0.2);
  EXPECT_EQ(over.seed, 7);
  EXPECT_NE(tc::exp::to_yaml(base), tc::exp::to_yaml(over));  // the cache key changes
  EXPECT_EQ(tc::exp::to_yaml(base), tc::exp::to_yaml(parse_config(file, {}, "other name")));
}

// TailedLOF's class sizes are patch-wise: a config asking for them with a rule
// that has none stops at the plan, naming the key, before any work.
TEST(ConfigValues, TailLofNeedsAPatchwiseRule) {
  const auto e = config_error("model:\n  tail_th_type: ada_trim_min-mode\n  tail_lof: true\n");
  EXPECT_EQ(e.rfind("c.yaml: model.tail_th_type 'ada_trim_min-mode' with tail_lof: ", 0), 0u) << e;
  EXPECT_NE(config_error("model:\n  tail_lof: true\n").find("TailedLOF needs"), std::string::npos);
  EXPECT_EQ(config_error("model:\n  tail_th_type: symmin\n  tail_lof: true\n"), "");
}

// One default per setting: a config key that sets an option takes the option
// struct's in-class default, so an empty config plans exactly the defaults.
TEST(ConfigValues, AnEmptyConfigPlansTheOptionStructsDefaults) {
  const auto plan = tc::exp::make_plan(parse_config("", {}, "c.yaml"));
  const tc::sampling::CoresetOptions coreset;
  const tc::sampling::LofOptions lof;
  EXPECT_EQ(plan.head_coreset.ratio, coreset.ratio);
  EXPECT_EQ(plan.head_coreset.proj_dim, coreset.proj_dim);
  EXPECT_EQ(plan.lof.k, lof.k);
  EXPECT_EQ(plan.lof.keep_quantile, lof.keep_quantile);
  EXPECT_EQ(plan.lof.proj_dim, lof.proj_dim);
  EXPECT_EQ(plan.index.k, tc::index::IndexOptions{}.k);
  EXPECT_EQ(plan.embedder.target_dim, tc::features::EmbedderOptions{}.target_dim);
  EXPECT_EQ(plan.embedder.layers, tc::features::EmbedderOptions{}.layers);
  EXPECT_EQ(plan.greedy_checkpoint_seconds, tc::sampling::GreedyCheckpoint{}.interval_seconds);
}

}  // namespace
