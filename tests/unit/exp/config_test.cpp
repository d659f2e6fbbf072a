#include "tailedcore/exp/config.h"

#include <gtest/gtest.h>

#include "config_error.h"
#include "tailedcore/core/check.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::exp::parse_config;

namespace {

using tc::testing::config_error;

TEST(Config, EveryShippedAndReferenceConfigLoads) {
  int loaded = 0;
  for (const fs::path dir : {tc::testing::fixtures_dir() / ".." / ".." / "configs",
                             tc::testing::reference_dir() / "configs"}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto cfg = tc::exp::load_config(e.path(), {});
      EXPECT_EQ(cfg.name, e.path().stem().string());
      ++loaded;
    }
  }
  EXPECT_GE(loaded, 10);
}

TEST(Config, ReferenceValuesAreRead) {
  const auto cfg = tc::exp::load_config(
      tc::testing::reference_dir() / "configs" / "tailedcore_mvtec_pareto.yaml", {});
  EXPECT_EQ(cfg.model.coreset_model_name, "tailedcore");
  EXPECT_EQ(cfg.model.tail_th_type, "ada_trim_min-mode");
  EXPECT_EQ(cfg.model.tail_data_augment_type, "rot30flip");
  EXPECT_EQ(cfg.model.embedding_to_extract_from, "avgpool");
  EXPECT_EQ(cfg.model.backbone_names, std::vector<std::string>{"wideresnet50"});
  EXPECT_EQ(cfg.data.imagesize, 224);
  EXPECT_DOUBLE_EQ(cfg.model.greedy_ratio, 0.1);
}

TEST(Config, UnknownKeyNamesTheClosestValidKey) {
  EXPECT_EQ(config_error("model:\n  greedy_ration: 0.1\n"),
            "c.yaml: unknown key 'model.greedy_ration' (did you mean 'model.greedy_ratio'?)");
  EXPECT_NE(config_error("", {"model.greedy_rati=0.2"}).find("did you mean 'model.greedy_ratio'"),
            std::string::npos);
}

TEST(Config, OverridesApplyAndAreChecked) {
  auto cfg = parse_config("seed: 3\n", {"model.greedy_ratio=0.25", "model.tail_th_type=null"}, "c");
  EXPECT_DOUBLE_EQ(cfg.model.greedy_ratio, 0.25);
  EXPECT_EQ(cfg.model.tail_th_type, "");
  EXPECT_EQ(cfg.seed, 3);
  EXPECT_NE(config_error("", {"model.greedy_ratio=1.5"}).find("expected a ratio in (0, 1]"),
            std::string::npos);
  EXPECT_NE(config_error("", {"model.greedy_ratio"}).find("expected key=value"), std::string::npos);
}

TEST(Config, TypeAndChoiceErrorsNameKeyAndValue) {
  EXPECT_NE(config_error("seed: abc\n").find("c.yaml: seed: value 'abc' is not an integer"),
            std::string::npos);
  const auto e = config_error("model:\n  index: hnsw\n");
  EXPECT_NE(e.find("c.yaml: model.index: 'hnsw' is unknown: expected one of flat, ivf"),
            std::string::npos)
      << e;
  EXPECT_NE(config_error("model: [1, 2\n").find("not valid YAML"), std::string::npos);
}

TEST(Config, ResolvedYamlRoundTrips) {
  auto cfg = parse_config("model:\n  coreset_model_name: softpatch\n  lof_k: 7\n", {}, "c");
  auto again = parse_config(tc::exp::to_yaml(cfg), {}, "resolved");
  EXPECT_EQ(tc::exp::to_yaml(again), tc::exp::to_yaml(cfg));
  EXPECT_EQ(again.model.lof_k, 7);
}

}  // namespace

TEST(Config, FullSizesMeanTheImagesOwnSize) {
  auto cfg = parse_config("data:\n  resize: full\n  imagesize: full\n  inputsize: full\n", {}, "c");
  EXPECT_EQ(cfg.data.resize, 0);
  EXPECT_EQ(cfg.data.imagesize, 0);
  EXPECT_NE(tc::exp::to_yaml(cfg).find("resize: full"), std::string::npos);
  EXPECT_EQ(tc::exp::to_yaml(parse_config(tc::exp::to_yaml(cfg), {}, "again")),
            tc::exp::to_yaml(cfg));
  // A crop from the image's own size, and a resize without a crop, are fine too.
  EXPECT_EQ(parse_config("", {"data.resize=full", "data.imagesize=128"}, "c").data.imagesize, 128);
  EXPECT_EQ(parse_config("", {"data.imagesize=full"}, "c").data.resize, 256);
  EXPECT_NE(config_error("data:\n  resize: 0\n")
                .find("c.yaml: data.resize = 0: expected a size in pixels (> 0) or full"),
            std::string::npos);
  EXPECT_NE(config_error("data:\n  imagesize: fullsize\n").find("is not a size in pixels or full"),
            std::string::npos);
  EXPECT_NE(config_error("data:\n  resize: 64\n  imagesize: 96\n")
                .find("expected imagesize <= resize (64) or full"),
            std::string::npos);
}
