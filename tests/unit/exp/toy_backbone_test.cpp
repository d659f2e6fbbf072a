// A backbone added from outside the library: one class and one
// register_backbone line. The config validates its taps from its table line,
// the plan builds it by name and the patch embedder runs on its maps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "testing.h"

namespace {

// Two maps (stride 4 and 8 means of the image) and their pooled mean.
class ToyBackbone final : public tc::features::Backbone {
 public:
  explicit ToyBackbone(const tc::features::BackboneOptions& o) { name_ = o.name; }
  std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                            const std::vector<std::string>& taps) override {
    const auto fine = torch::avg_pool2d(images, 4), coarse = torch::avg_pool2d(images, 8);
    std::map<std::string, at::Tensor> all = {
        {"fine", fine}, {"coarse", coarse}, {"pool", coarse.mean({2, 3})}};
    std::map<std::string, at::Tensor> out;
    for (const auto& t : taps) out[t] = all.at(t);
    return out;
  }
  int64_t embedding_dim() const override { return 3; }
  std::map<std::string, at::Tensor> state() override { return {}; }
  void load_torchscript(const std::string& path) override {}
  void recalibrate_batchnorm(const std::vector<at::Tensor>&) override {}
};

const bool registered =
    tc::features::register_backbone({"toy",
                                     [](const auto& o) { return std::make_unique<ToyBackbone>(o); },
                                     {"fine", "coarse", "pool"},
                                     "pool"});

const std::vector<std::string> kToy = {
    "model.backbone_names=[toy]", "model.layers_to_extract=[fine, coarse]",
    "model.embedding_to_extract_from=pool", "model.target_embed_dimension=8"};

TEST(ToyBackbone, ConfigPlanAndEmbedderTakeIt) {
  ASSERT_TRUE(registered);
  const auto plan = tc::exp::make_plan(tc::exp::parse_config("", kToy, "c.yaml"));
  auto backbone = tc::features::Backbone::create(plan.backbone("toy"));
  EXPECT_EQ(backbone->name(), "toy");
  auto opts = plan.embedder;
  opts.global_embedding = true;
  tc::features::PatchEmbedder embedder(*backbone, opts);
  torch::manual_seed(0);
  const auto out = embedder.embed(torch::rand({2, 3, 32, 32}));
  EXPECT_EQ(out.h, 8);  // the first map's grid
  EXPECT_EQ(out.w, 8);
  EXPECT_EQ(out.patches.sizes(), (std::vector<int64_t>{2 * 8 * 8, 8}));
  EXPECT_EQ(out.embeddings.sizes(), (std::vector<int64_t>{2, 3}));
}

TEST(ToyBackbone, ItsEmbeddingTapIsNoLayerToExtract) {
  auto sets = kToy;
  sets.push_back("model.layers_to_extract=[pool]");
  EXPECT_NE(tc::testing::error_of([&] {
              tc::exp::parse_config("", sets, "c.yaml");
            }).find("model.layers_to_extract: 'pool' is unknown: expected one of fine, coarse"),
            std::string::npos);
  EXPECT_NE(tc::testing::error_of([] {
              tc::features::register_backbone({"toy", nullptr, {"a"}, "a"});
            }).find("register_backbone: 'toy' is taken"),
            std::string::npos);
}

}  // namespace
