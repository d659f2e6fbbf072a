// Config keys of the backbones: taps are checked against what each backbone
// offers; a user TorchScript backbone names its own taps and needs its file.
#include <gtest/gtest.h>

#include <fstream>

#include "config_error.h"
#include "tailedcore/exp/config.h"
#include "testing.h"

using tc::exp::parse_config;

namespace {

using tc::testing::config_error;

const std::string kLite0 =
    "model:\n  backbone_names: [efficientnet_lite0]\n  layers_to_extract: [stage3, stage5]\n"
    "  embedding_to_extract_from: avgpool\n";

TEST(BackboneConfig, EfficientNetTapsAreItsStages) {
  const auto cfg = parse_config(kLite0, {"model.target_embed_dimension=384"}, "c.yaml");
  EXPECT_EQ(cfg.model.layers_to_extract, (std::vector<std::string>{"stage3", "stage5"}));
  EXPECT_EQ(cfg.model.target_embed_dimension, 384);
  EXPECT_NE(tc::exp::to_yaml(cfg).find("target_embed_dimension: 384"), std::string::npos);
  EXPECT_NE(
      config_error(kLite0, {"model.layers_to_extract=[layer2]"})
          .find("c.yaml: model.layers_to_extract: 'layer2' is unknown: expected one of stage1"),
      std::string::npos);
  EXPECT_NE(
      config_error(kLite0, {"model.layers_to_extract=[avgpool]"}).find("'avgpool' is unknown"),
      std::string::npos);
  EXPECT_NE(
      config_error(kLite0, {"model.embedding_to_extract_from=layer4"}).find("'layer4' is unknown"),
      std::string::npos);
  EXPECT_NE(config_error(kLite0, {"model.target_embed_dimension=0"})
                .find("target_embed_dimension = 0: expected >= 1"),
            std::string::npos);
  // The ResNets keep theirs.
  EXPECT_NE(config_error("model:\n  layers_to_extract: [stage3]\n")
                .find("'stage3' is unknown: expected one of layer1"),
            std::string::npos);
}

TEST(BackboneConfig, UserTorchScriptNamesItsTapsAndNeedsItsFile) {
  const std::string yaml =
      "model:\n  backbone_names: [torchscript]\n  layers_to_extract: [blocks.3, blocks.7]\n"
      "  embedding_to_extract_from: cls_token\n";
  const auto cfg = parse_config(yaml, {"model.backbone_weights=dino.pt"}, "c.yaml");
  EXPECT_EQ(cfg.model.layers_to_extract, (std::vector<std::string>{"blocks.3", "blocks.7"}));
  EXPECT_EQ(cfg.model.embedding_to_extract_from, "cls_token");
  EXPECT_NE(config_error(yaml).find(
                "model.backbone_weights: backbone torchscript needs a TorchScript file"),
            std::string::npos);
  EXPECT_NE(config_error("model:\n  backbone_names: [vgg]\n")
                .find("model.backbone_names: 'vgg' is unknown"),
            std::string::npos);
}

}  // namespace

namespace {

TEST(BackboneConfig, RelativeWeightsInAFileAreRelativeToTheFile) {
  tc::testing::TempDir tmp;
  std::filesystem::create_directories(tmp / "configs");
  std::ofstream(tmp / "configs" / "c.yaml") << "model:\n  backbone_weights: ../weights/w.pt\n";
  const auto cfg = tc::exp::load_config(tmp / "configs" / "c.yaml", {});
  EXPECT_EQ(cfg.model.backbone_weights, (tmp.path() / "weights" / "w.pt").string());
  // An override is taken as given (relative to where the command runs).
  EXPECT_EQ(tc::exp::load_config(tmp / "configs" / "c.yaml", {"model.backbone_weights=x.pt"})
                .model.backbone_weights,
            "x.pt");
  std::ofstream(tmp / "configs" / "abs.yaml") << "model:\n  backbone_weights: /abs/w.pt\n";
  EXPECT_EQ(tc::exp::load_config(tmp / "configs" / "abs.yaml", {}).model.backbone_weights,
            "/abs/w.pt");
}

}  // namespace
