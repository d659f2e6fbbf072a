#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>

#include "tailedcore/core/check.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "testing.h"

using namespace tc::features;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = tc::testing::fixtures_dir() / "features";

BackboneOptions tiny() {
  BackboneOptions o;
  o.name = "resnet18";
  o.base_width = 8;
  o.weights_path = (kDir / "tiny_resnet18.pt").string();
  return o;
}

std::map<std::string, torch::Tensor> expected() {
  auto m = torch::jit::load((kDir / "expected.pt").string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers()) out[b.name] = b.value;
  return out;
}

double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(TorchScript, FixtureWeightsGivePyTorchsOutputs) {
  auto b = Backbone::create(tiny());
  auto want = expected();
  auto out = b->forward(want.at("input"), {"layer2", "layer3", "avgpool"});
  EXPECT_LT(rel_err(out.at("layer2"), want.at("layer2")), 1e-4);
  EXPECT_LT(rel_err(out.at("layer3"), want.at("layer3")), 1e-4);
  EXPECT_LT(rel_err(out.at("avgpool"), want.at("avgpool")), 1e-4);
  PatchEmbedder e(*b, EmbedderOptions{{"layer2", "layer3"}, 64, true});
  auto o = e.embed(want.at("input"));
  EXPECT_EQ(o.h, 8);
  EXPECT_LT(rel_err(o.patches, want.at("patches")), 1e-4);
  EXPECT_LT(rel_err(o.embeddings, want.at("avgpool")), 1e-4);
}

std::string load_error(const BackboneOptions& o) {
  try {
    Backbone::create(o);
  } catch (const tc::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TorchScript, BrokenFilesAreRefusedWithClearErrors) {
  tc::testing::TempDir tmp;
  auto o = tiny();
  o.base_width = 16;  // every conv has the wrong shape
  EXPECT_NE(load_error(o).find("conv1.weight [8, 3, 7, 7] (expected [16, 3, 7, 7])"),
            std::string::npos)
      << load_error(o);
  o = tiny();
  o.name = "resnet50";  // bottleneck names are missing from a resnet18 file
  const auto e = load_error(o);
  EXPECT_NE(e.find("missing [layer1.0.bn3.bias"), std::string::npos) << e;
  EXPECT_NE(e.find("layer1.0.conv1.weight [8, 8, 3, 3] (expected [8, 8, 1, 1])"), std::string::npos)
      << e;
  std::ofstream(tmp / "junk.pt") << "not a zip";
  o = tiny();
  o.weights_path = (tmp / "junk.pt").string();
  EXPECT_NE(load_error(o).find("not a loadable TorchScript file"), std::string::npos);
  o.weights_path = (tmp / "absent.pt").string();
  EXPECT_NE(load_error(o).find("absent.pt"), std::string::npos);
}

}  // namespace
