// torchvision's ResNet family (resnet18, resnet50, wideresnet50) in LibTorch,
// with torchvision's parameter names. In eval mode it runs with every
// BatchNorm folded into the convolution before it (see FoldedConv).
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/mkldnn_reorder_conv2d_weight.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>

#include "module_backbone.h"
#include "tailedcore/core/check.h"

namespace tc::features {
namespace {

namespace nn = torch::nn;

// A bias-free convolution whose weight is allocated, not initialised:
// torch::nn::Conv2d draws a kaiming-uniform init at construction (0.6 s for
// wideresnet50's 69 M weights), and every weight is then loaded or drawn
// again (init_like_torchvision) anyway.
struct ConvImpl : nn::Module {
  torch::Tensor weight;
  int64_t stride, pad;
  ConvImpl(int64_t in, int64_t out, int64_t k, int64_t stride_, int64_t pad_)
      : stride(stride_), pad(pad_) {
    weight = register_parameter("weight", torch::empty({out, in, k, k}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::conv2d(x, weight, {}, stride, pad);
  }
};
TORCH_MODULE(Conv);

Conv conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return Conv(in, out, k, stride, pad);
}

// An eval-mode BatchNorm folded into the convolution before it:
// gamma * (conv(x) - mean) / sqrt(var + eps) + beta is conv(x) with the weight
// scaled per output channel, plus a bias (the scale and bias computed in
// float64: one rounding each; the weights scaled in their own type, 7x
// faster than in float64 over wideresnet50's 69 M). On a CPU
// with oneDNN the weight is also reordered once into oneDNN's blocked layout
// and the activations stay in it between operators (`blocked`): a plain
// conv2d reorders every weight and activation on each call (timings:
// results/bench/extract.md). The maps differ from the eager ones in the last bits
// (relative 2e-6), as another convolution algorithm's would; an image's maps
// are the same bits in a batch of 1 to 4 (the embedder's chunks).
struct FoldedConv {
  torch::Tensor weight, bias;
  int64_t stride = 1, pad = 0;
  bool blocked = false;

  FoldedConv(const ConvImpl& c, const nn::BatchNorm2dImpl& bn) : stride(c.stride), pad(c.pad) {
    const auto d = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
    const auto dtype = c.weight.scalar_type();
    const auto scale = d(bn.weight) / torch::sqrt(d(bn.running_var) + bn.options.eps());
    weight = (c.weight * scale.to(dtype).view({-1, 1, 1, 1})).contiguous();
    bias = (d(bn.bias) - d(bn.running_mean) * scale).to(dtype);
    blocked = weight.is_cpu() && weight.scalar_type() == torch::kFloat32 && at::hasMKLDNN();
    if (blocked)
      weight = at::mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), {pad, pad}, {stride, stride},
                                                {1, 1}, 1);
  }
  /// x: a oneDNN tensor when `blocked`, else dense.
  torch::Tensor operator()(const torch::Tensor& x) const {
    if (blocked)
      return at::mkldnn_convolution(x, weight, bias, {pad, pad}, {stride, stride}, {1, 1}, 1);
    return torch::conv2d(x, weight, bias, stride, pad);
  }
};

// torchvision's BasicBlock (expansion 1) and Bottleneck (expansion 4, stride on
// the 3x3 conv, "ResNet v1.5") under one module with torchvision's child names.
struct BlockImpl : nn::Module {
  bool bottleneck;
  Conv conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  nn::Sequential downsample{nullptr};

  BlockImpl(bool is_bottleneck, int64_t inplanes, int64_t planes, int64_t width, int64_t stride,
            int64_t expansion)
      : bottleneck(is_bottleneck) {
    const int64_t out = planes * expansion;
    if (bottleneck) {
      conv1 = register_module("conv1", conv(inplanes, width, 1, 1, 0));
      bn1 = register_module("bn1", nn::BatchNorm2d(width));
      conv2 = register_module("conv2", conv(width, width, 3, stride, 1));
      bn2 = register_module("bn2", nn::BatchNorm2d(width));
      conv3 = register_module("conv3", conv(width, out, 1, 1, 0));
      bn3 = register_module("bn3", nn::BatchNorm2d(out));
    } else {
      conv1 = register_module("conv1", conv(inplanes, planes, 3, stride, 1));
      bn1 = register_module("bn1", nn::BatchNorm2d(planes));
      conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
      bn2 = register_module("bn2", nn::BatchNorm2d(planes));
    }
    if (stride != 1 || inplanes != out)
      downsample = register_module(
          "downsample", nn::Sequential(conv(inplanes, out, 1, stride, 0), nn::BatchNorm2d(out)));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    if (bottleneck) {
      y = torch::relu(bn2(conv2(y)));
      y = bn3(conv3(y));
    } else {
      y = bn2(conv2(y));
    }
    return torch::relu(y + (downsample ? downsample->forward(x) : x));
  }
};
TORCH_MODULE(Block);

// A block with its BatchNorms folded (eval mode only).
struct FoldedBlock {
  bool bottleneck;
  std::vector<FoldedConv> convs;  // conv1, conv2[, conv3]
  std::optional<FoldedConv> downsample;

  explicit FoldedBlock(BlockImpl& b) : bottleneck(b.bottleneck) {
    convs.emplace_back(*b.conv1, *b.bn1);
    convs.emplace_back(*b.conv2, *b.bn2);
    if (bottleneck) convs.emplace_back(*b.conv3, *b.bn3);
    if (b.downsample)
      downsample.emplace(*b.downsample[0]->as<ConvImpl>(),
                         *b.downsample[1]->as<nn::BatchNorm2dImpl>());
  }

  torch::Tensor forward(const torch::Tensor& x) const {
    torch::Tensor y = convs[0](x).relu_();
    if (bottleneck)
      y = convs[2](convs[1](y).relu_());
    else
      y = convs[1](y);
    y += downsample ? (*downsample)(x) : x;
    return y.relu_();
  }
};

struct Arch {
  bool bottleneck;
  std::vector<int64_t> blocks;
  int64_t width_per_group;
};

Arch arch_of(const std::string& name) {
  if (name == "resnet18") return {false, {2, 2, 2, 2}, 64};
  if (name == "resnet50") return {true, {3, 4, 6, 3}, 64};
  if (name == "wideresnet50") return {true, {3, 4, 6, 3}, 128};
  TC_FAIL(
      "backbone '", name,
      "' is unknown: expected resnet18, resnet50, wideresnet50, efficientnet_lite0 or torchscript");
}

// A function's static, not a global: the backbone table may be built while
// other files' globals are still being initialised (a registrar in a test).
const std::vector<std::string>& stage_taps() {
  static const std::vector<std::string> taps = {"layer1", "layer2", "layer3", "layer4", "avgpool"};
  return taps;
}

int deepest_stage(const std::vector<std::string>& taps) {
  int deepest = -1;
  for (const auto& t : taps) {
    const auto it = std::find(stage_taps().begin(), stage_taps().end(), t);
    TC_CHECK(it != stage_taps().end(), "layer '", t,
             "' cannot be extracted: expected layer1..layer4 or avgpool");
    deepest = std::max(deepest, static_cast<int>(it - stage_taps().begin()));
  }
  return deepest;
}

struct ResNetImpl : nn::Module {
  Conv conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  std::vector<nn::ModuleList> layers;
  nn::Linear fc{nullptr};
  int64_t embedding_dim = 0;

  ResNetImpl(const Arch& a, int64_t base) {
    const int64_t expansion = a.bottleneck ? 4 : 1;
    conv1 = register_module("conv1", conv(3, base, 7, 2, 3));
    bn1 = register_module("bn1", nn::BatchNorm2d(base));
    int64_t inplanes = base;
    for (int l = 0; l < 4; ++l) {
      const int64_t planes = base << l;
      const int64_t width = planes * a.width_per_group / 64;
      nn::ModuleList list;
      for (int64_t b = 0; b < a.blocks[l]; ++b) {
        list->push_back(
            Block(a.bottleneck, inplanes, planes, width, (b == 0 && l > 0) ? 2 : 1, expansion));
        inplanes = planes * expansion;
      }
      layers.push_back(register_module("layer" + std::to_string(l + 1), list));
    }
    embedding_dim = inplanes;
    fc = register_module("fc", nn::Linear(inplanes, 1000));
  }

  /// The modules as they are (train mode: BatchNorm recalibration).
  std::map<std::string, torch::Tensor> forward(torch::Tensor x,
                                               const std::vector<std::string>& taps) {
    const int deepest = deepest_stage(taps);
    std::map<std::string, torch::Tensor> out;
    x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 3, 2, 1);
    for (int l = 0; l <= std::min(deepest, 3); ++l) {
      for (auto& m : *layers[l]) x = m->as<BlockImpl>()->forward(x);
      if (std::count(taps.begin(), taps.end(), stage_taps()[l])) out[stage_taps()[l]] = x;
    }
    if (deepest == 4) out["avgpool"] = x.mean({2, 3});
    return out;
  }
};
TORCH_MODULE(ResNet);

// The eval-mode network with every BatchNorm folded, built from the module's
// state when first needed, a layer at a time (taps up to layer3 never fold
// layer4's weights, two thirds of wideresnet50's). It holds copies: whoever
// changes the state (loading, recalibration, a move to a device) drops it.
class FoldedResNet {
 public:
  explicit FoldedResNet(ResNetImpl& net) : net_(net), stem_(*net.conv1, *net.bn1) {}

  /// Folds the layers up to `deepest` not folded yet. Not concurrent with
  /// itself; forward may run beside it on layers already folded.
  void prepare(int deepest) {
    for (int l = 0; l <= std::min(deepest, 3); ++l) {
      if (layers_[l]) continue;
      std::vector<FoldedBlock> blocks;
      for (auto& m : *net_.layers[l]) blocks.emplace_back(*m->as<BlockImpl>());
      layers_[l] = std::move(blocks);
    }
  }

  /// After prepare(deepest_stage(taps)).
  std::map<std::string, torch::Tensor> forward(torch::Tensor x,
                                               const std::vector<std::string>& taps) const {
    const int deepest = deepest_stage(taps);
    std::map<std::string, torch::Tensor> out;
    const auto dense = [&](const torch::Tensor& t) { return stem_.blocked ? t.to_dense() : t; };
    x = torch::max_pool2d(stem_(stem_.blocked ? x.contiguous().to_mkldnn() : x).relu_(), 3, 2, 1);
    for (int l = 0; l <= std::min(deepest, 3); ++l) {
      for (const auto& b : *layers_[l]) x = b.forward(x);
      if (std::count(taps.begin(), taps.end(), stage_taps()[l])) out[stage_taps()[l]] = dense(x);
    }
    if (deepest == 4) out["avgpool"] = dense(x).mean({2, 3});
    return out;
  }

 private:
  ResNetImpl& net_;
  FoldedConv stem_;
  std::array<std::optional<std::vector<FoldedBlock>>, 4> layers_;
};

void init_like_torchvision(ResNet& net, uint64_t seed) {
  torch::NoGradGuard ng;
  torch::manual_seed(seed);
  for (auto& m : net->modules(false)) {
    if (auto* c = m->as<ConvImpl>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<nn::BatchNorm2dImpl>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

class TorchvisionResNet final : public ModuleBackbone {
 public:
  explicit TorchvisionResNet(const BackboneOptions& o) : net_(arch_of(o.name), o.base_width) {
    name_ = o.name;
    // Loaded weights replace every parameter and buffer (load_torchscript
    // checks), so the random init (kaiming over 69 M parameters for
    // wideresnet50) runs only without them.
    if (o.weights_path.empty())
      init_like_torchvision(net_, o.seed);
    else
      load_torchscript(o.weights_path);
    net_->eval();
  }

  int64_t embedding_dim() const override { return net_->embedding_dim; }

  // The state handed out may be changed in place (move_to_device does): the
  // folded copy is rebuilt from it at the next forward.
  std::map<std::string, at::Tensor> state() override {
    folded_.reset();
    return ModuleBackbone::state();
  }
  void recalibrate_batchnorm(const std::vector<at::Tensor>& batches) override {
    folded_.reset();
    ModuleBackbone::recalibrate_batchnorm(batches);
  }

 protected:
  nn::Module& net() override { return *net_; }
  std::map<std::string, at::Tensor> run_taps(const at::Tensor& x,
                                             const std::vector<std::string>& taps) override {
    if (net_->is_training()) return net_->forward(x, taps);
    {
      // The embedder's CPU workers call this side by side.
      std::lock_guard<std::mutex> lock(fold_mutex_);
      if (!folded_) folded_.emplace(*net_);
      folded_->prepare(deepest_stage(taps));
    }
    return folded_->forward(x, taps);
  }
  void run_all(const at::Tensor& x) override { net_->forward(x, {"layer4"}); }

 private:
  ResNet net_;
  std::optional<FoldedResNet> folded_;
  std::mutex fold_mutex_;
};

}  // namespace

std::unique_ptr<Backbone> make_resnet(const BackboneOptions& o) {
  return std::make_unique<TorchvisionResNet>(o);
}

const std::vector<std::string>& resnet_taps() { return stage_taps(); }

}  // namespace tc::features
