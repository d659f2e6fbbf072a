#include "tailedcore/features/embedder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/features/backbone.h"

using namespace tc::features;
namespace F = torch::nn::functional;

namespace {

// The reference's operations, literally (patch_maker.py, feature_aggregator.py,
// common.py): unfold -> reshape (B, L, C, 3, 3) -> resize deeper layers' unfolded
// maps -> MeanMapper per layer -> stack -> Aggregator.
torch::Tensor literal_embedding(const std::vector<torch::Tensor>& maps, int64_t dim) {
  std::vector<torch::Tensor> per_layer;
  const int64_t B = maps[0].size(0), h0 = maps[0].size(2), w0 = maps[0].size(3);
  for (const auto& m : maps) {
    const int64_t C = m.size(1), h = m.size(2), w = m.size(3);
    auto u = F::unfold(m, F::UnfoldFuncOptions(3).padding(1));         // [B, C*9, L]
    auto x = u.reshape({B, C, 3, 3, h * w}).permute({0, 4, 1, 2, 3});  // [B, L, C, 3, 3]
    if (h != h0 || w != w0) {
      x = x.reshape({B, h, w, C, 3, 3}).permute({0, 3, 4, 5, 1, 2}).reshape({-1, h, w});
      x = F::interpolate(x.unsqueeze(1), F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{h0, w0})
                                             .mode(torch::kBilinear)
                                             .align_corners(false))
              .squeeze(1);
      x = x.reshape({B, C, 3, 3, h0, w0})
              .permute({0, 4, 5, 1, 2, 3})
              .reshape({B, h0 * w0, C, 3, 3});
    }
    x = x.reshape({-1, C * 9});
    per_layer.push_back(torch::adaptive_avg_pool1d(x.unsqueeze(1), dim).squeeze(1));
  }
  auto s = torch::stack(per_layer, 1);  // [N, n, dim]
  return torch::adaptive_avg_pool1d(s.reshape({s.size(0), 1, -1}), dim).squeeze(1);
}

TEST(Embedder, AdaptiveMeanEqualsTorchPooling) {
  torch::manual_seed(0);
  for (int64_t D : {4608, 2304, 1152, 1024, 700, 2048}) {
    auto x = torch::randn({2, D, 5});
    auto want = torch::adaptive_avg_pool1d(x.permute({0, 2, 1}).reshape({10, 1, D}), 1024)
                    .view({2, 5, 1024})
                    .permute({0, 2, 1});
    EXPECT_TRUE(torch::allclose(adaptive_mean_dim1(x, 1024), want, 1e-5, 1e-6)) << "D = " << D;
  }
}

TEST(Embedder, MatchesTheReferenceOperationsLiterally) {
  torch::manual_seed(1);
  auto l2 = torch::randn({2, 32, 8, 8}).relu();
  auto l3 = torch::randn({2, 64, 4, 4}).relu();
  auto ours = embed_layer_maps({l2, l3}, 128);
  auto want = literal_embedding({l2, l3}, 128);
  ASSERT_EQ(ours.sizes(), want.sizes());
  const double rel = ((ours - want).abs().max() / want.abs().max()).item<double>();
  EXPECT_LT(rel, 1e-5);
}

// Non-square grids (native-resolution images): h != w everywhere, down to a
// 2 x 3 first layer whose deeper layer (1 x 2) is resized up to it.
TEST(Embedder, NonSquareGridsMatchTheReferenceOperations) {
  torch::manual_seed(4);
  for (const auto& [h, w, h3, w3] :
       std::vector<std::array<int64_t, 4>>{{2, 3, 1, 2}, {6, 10, 3, 5}, {9, 4, 5, 2}}) {
    auto l2 = torch::randn({2, 16, h, w}).relu();
    auto l3 = torch::randn({2, 32, h3, w3}).relu();
    auto ours = embed_layer_maps({l2, l3}, 64);
    auto want = literal_embedding({l2, l3}, 64);
    ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{2 * h * w, 64})) << h << "x" << w;
    const double rel = ((ours - want).abs().max() / want.abs().max()).item<double>();
    EXPECT_LT(rel, 1e-5) << h << "x" << w;
  }
}

TEST(Embedder, NonSquareImagesGiveANonSquarePatchGrid) {
  BackboneOptions o;
  o.name = "resnet18";
  o.base_width = 8;
  auto b = Backbone::create(o);
  EmbedderOptions eo;
  eo.target_dim = 32;
  PatchEmbedder embedder(*b, eo);
  const auto images = torch::randn({2, 3, 48, 80});
  const auto out = embedder.embed(images);
  EXPECT_EQ(out.h, 6);  // layer2: stride 8
  EXPECT_EQ(out.w, 10);
  const auto maps = b->forward(images, {"layer2", "layer3"});
  EXPECT_TRUE(
      torch::equal(out.patches, embed_layer_maps({maps.at("layer2"), maps.at("layer3")}, 32)));
}

TEST(Embedder, ClosedFormOfTwoLayersFromSpec) {
  // SPEC 2: dims j < D/2 are (box(l2[j]) + l2[j]) / 10 when layer2 has D/2 channels.
  torch::manual_seed(2);
  auto l2 = torch::rand({1, 64, 6, 6});
  auto l3 = torch::rand({1, 128, 3, 3});
  auto e = embed_layer_maps({l2, l3}, 128).view({6, 6, 128});
  auto box = F::conv2d(l2.view({64, 1, 6, 6}), torch::ones({1, 1, 3, 3}),
                       F::Conv2dFuncOptions().padding(1));
  auto want = ((box.view({64, 6, 6}) + l2[0]) / 10).permute({1, 2, 0});
  EXPECT_TRUE(torch::allclose(e.narrow(2, 0, 64), want, 1e-5, 1e-6));
}

TEST(Backbone, TorchvisionShapesAndNames) {
  BackboneOptions o;
  o.name = "resnet18";
  o.base_width = 8;
  auto b = Backbone::create(o);
  auto out = b->forward(torch::randn({2, 3, 64, 64}), {"layer2", "layer3", "avgpool"});
  EXPECT_EQ(out["layer2"].sizes(), (std::vector<int64_t>{2, 16, 8, 8}));
  EXPECT_EQ(out["layer3"].sizes(), (std::vector<int64_t>{2, 32, 4, 4}));
  EXPECT_EQ(out["avgpool"].sizes(), (std::vector<int64_t>{2, 64}));
  auto s = b->state();
  EXPECT_TRUE(s.count("layer2.0.downsample.1.running_mean"));
  EXPECT_TRUE(s.count("layer4.1.bn2.num_batches_tracked"));
  o.name = "wideresnet50";
  auto w = Backbone::create(o);
  EXPECT_EQ(w->state().at("layer1.0.conv2.weight").sizes(), (std::vector<int64_t>{16, 16, 3, 3}));
  EXPECT_EQ(w->embedding_dim(), 256);
  EXPECT_THROW(b->forward(torch::randn({1, 3, 32, 32}), {"layer9"}), tc::Error);
  o.name = "vgg16";
  EXPECT_THROW(Backbone::create(o), tc::Error);
}

TEST(Backbone, SameSeedSameWeightsAndBatchNormRecalibrationSpreadsEmbeddings) {
  BackboneOptions o;
  o.name = "resnet18";
  o.base_width = 8;
  auto a = Backbone::create(o), b = Backbone::create(o);
  EXPECT_TRUE(torch::equal(a->state().at("conv1.weight"), b->state().at("conv1.weight")));
  torch::manual_seed(3);
  auto smooth = torch::rand({8, 3, 1, 1}).expand({8, 3, 64, 64}).contiguous();
  auto noisy = torch::randn({8, 3, 64, 64});
  auto mean_cos = [&](Backbone& net) {
    auto e = net.forward(torch::cat({smooth, noisy}), {"avgpool"})["avgpool"];
    e = F::normalize(e, F::NormalizeFuncOptions().dim(1));
    return e.mm(e.t()).mean().item<double>();
  };
  const double before = mean_cos(*a);
  a->recalibrate_batchnorm({torch::cat({smooth, noisy})});
  const double after = mean_cos(*a);
  EXPECT_LT(after, before);
}

}  // namespace
