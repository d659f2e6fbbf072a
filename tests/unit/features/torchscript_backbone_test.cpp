// backbone_names: [torchscript]: a user's TorchScript module returning named
// feature maps (tests/fixtures/features/make_dict_backbone_fixture.py).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>

#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "testing.h"

using namespace tc::features;
using tc::testing::error_of;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = tc::testing::fixtures_dir() / "features";

BackboneOptions user(const fs::path& file) {
  BackboneOptions o;
  o.name = "torchscript";
  o.weights_path = file.string();
  return o;
}

TEST(UserTorchScriptBackbone, TapsAreTheModulesNamedOutputs) {
  auto b = Backbone::create(user(kDir / "dict_backbone.pt"));
  auto m = torch::jit::load((kDir / "dict_backbone_expected.pt").string());
  std::map<std::string, torch::Tensor> want;
  for (const auto& buf : m.named_buffers()) want[buf.name] = buf.value;
  auto out = b->forward(want.at("input"), {"low", "mid", "pooled"});
  // PyTorch's outputs on the machine that made the fixture: the convolution
  // kernels of another CPU (oneDNN on AMD Zen) round differently, so to the
  // fixture tests' 1e-4, not bit for bit.
  for (const char* tap : {"low", "mid", "pooled"})
    EXPECT_TRUE(torch::allclose(out.at(tap), want.at(tap), 1e-4, 1e-5))
        << tap << ": largest difference " << (out.at(tap) - want.at(tap)).abs().max().item<float>();
  // The embedder takes patches from the named maps and the global embedding from "pooled".
  EmbedderOptions eo{{"low", "mid"}, 32, true};
  eo.global_layer = "pooled";
  PatchEmbedder e(*b, eo);
  auto o = e.embed(want.at("input"));
  EXPECT_EQ(o.h, 8);
  EXPECT_EQ(o.patches.sizes(), (std::vector<int64_t>{2 * 8 * 8, 32}));
  EXPECT_TRUE(torch::allclose(o.embeddings, want.at("pooled"), 1e-4, 1e-5));
  // The embedder on this machine's maps, exactly.
  EXPECT_TRUE(torch::equal(o.patches, embed_layer_maps({out.at("low"), out.at("mid")}, 32)));
}

TEST(UserTorchScriptBackbone, WrongTapsAndFilesAreOneLineErrors) {
  auto b = Backbone::create(user(kDir / "dict_backbone.pt"));
  const auto e = error_of([&] { b->forward(torch::randn({1, 3, 32, 32}), {"layer2"}); });
  EXPECT_NE(
      e.find("dict_backbone.pt: forward returned no 'layer2': its keys are [low, mid, pooled]"),
      std::string::npos)
      << e;
  // A module that returns a tensor, not a dict of named maps.
  const auto t = error_of([&] {
    Backbone::create(user(kDir / "tiny_resnet18.pt"))
        ->forward(torch::randn({1, 3, 32, 32}), {"layer2"});
  });
  EXPECT_NE(t.find("expected a Dict[str, Tensor] of named feature maps"), std::string::npos) << t;
  EXPECT_NE(error_of([&] { Backbone::create(user("")); }).find("needs model.backbone_weights"),
            std::string::npos);
  tc::testing::TempDir tmp;
  std::ofstream(tmp / "junk.pt") << "junk";
  EXPECT_NE(error_of([&] {
              Backbone::create(user(tmp / "junk.pt"));
            }).find("not a loadable TorchScript file"),
            std::string::npos);
}

TEST(UserTorchScriptBackbone, BackboneTapsListWhatEachBackboneOffers) {
  EXPECT_TRUE(backbone_kind("torchscript").taps.empty());
  EXPECT_EQ(backbone_kind("resnet18").taps.front(), "layer1");
  EXPECT_EQ(backbone_kind("resnet18").embedding_tap, "avgpool");
  EXPECT_EQ(backbone_kind("efficientnet_lite0").taps.size(), 9u);
  EXPECT_EQ(backbone_kind("efficientnet_lite0").maps().size(), 8u);
  EXPECT_NE(error_of([] { backbone_kind("vgg16"); }).find("backbone 'vgg16' is unknown"),
            std::string::npos);
}

}  // namespace
