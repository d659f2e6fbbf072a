#include "tailedcore/features/backbone.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"

namespace tc::features {
namespace {

namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's BasicBlock (expansion 1) and Bottleneck (expansion 4, stride on
// the 3x3 conv, "ResNet v1.5") under one module with torchvision's child names.
struct BlockImpl : nn::Module {
  bool bottleneck;
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
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
      downsample = register_module("downsample", nn::Sequential(conv(inplanes, out, 1, stride, 0),
                                                                nn::BatchNorm2d(out)));
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

struct Arch {
  bool bottleneck;
  std::vector<int64_t> blocks;
  int64_t width_per_group;
};

Arch arch_of(const std::string& name) {
  if (name == "resnet18") return {false, {2, 2, 2, 2}, 64};
  if (name == "resnet50") return {true, {3, 4, 6, 3}, 64};
  if (name == "wideresnet50") return {true, {3, 4, 6, 3}, 128};
  TC_FAIL("backbone '", name, "' is unknown: expected resnet18, resnet50 or wideresnet50");
}

const std::vector<std::string> kStages = {"layer1", "layer2", "layer3", "layer4", "avgpool"};

struct ResNetImpl : nn::Module {
  nn::Conv2d conv1{nullptr};
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
        list->push_back(Block(a.bottleneck, inplanes, planes, width, (b == 0 && l > 0) ? 2 : 1, expansion));
        inplanes = planes * expansion;
      }
      layers.push_back(register_module("layer" + std::to_string(l + 1), list));
    }
    embedding_dim = inplanes;
    fc = register_module("fc", nn::Linear(inplanes, 1000));
  }

  std::map<std::string, torch::Tensor> forward(torch::Tensor x, const std::vector<std::string>& taps) {
    int deepest = -1;
    for (const auto& t : taps) {
      const auto it = std::find(kStages.begin(), kStages.end(), t);
      TC_CHECK(it != kStages.end(), "layer '", t, "' cannot be extracted: expected layer1..layer4 or avgpool");
      deepest = std::max(deepest, static_cast<int>(it - kStages.begin()));
    }
    std::map<std::string, torch::Tensor> out;
    x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 3, 2, 1);
    for (int l = 0; l <= std::min(deepest, 3); ++l) {
      for (auto& m : *layers[l]) x = m->as<BlockImpl>()->forward(x);
      if (std::count(taps.begin(), taps.end(), kStages[l])) out[kStages[l]] = x;
    }
    if (deepest == 4) out["avgpool"] = x.mean({2, 3});
    return out;
  }
};
TORCH_MODULE(ResNet);

void init_like_torchvision(ResNet& net, uint64_t seed) {
  torch::NoGradGuard ng;
  torch::manual_seed(seed);
  for (auto& m : net->modules(false)) {
    if (auto* c = m->as<nn::Conv2dImpl>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<nn::BatchNorm2dImpl>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

std::string join(const std::vector<std::string>& v, size_t max = 8) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size() && i < max; ++i) os << (i ? ", " : "") << v[i];
  if (v.size() > max) os << " (+" << v.size() - max << " more)";
  return os.str();
}

class TorchvisionResNet final : public Backbone {
 public:
  explicit TorchvisionResNet(const BackboneOptions& o) : net_(arch_of(o.name), o.base_width) {
    name_ = o.name;
    // Loaded weights replace every parameter and buffer (load_torchscript
    // checks), so the random init (kaiming over 69 M parameters for
    // wideresnet50) runs only without them.
    if (o.weights_path.empty()) init_like_torchvision(net_, o.seed);
    else load_torchscript(o.weights_path);
    net_->eval();
  }

  std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                            const std::vector<std::string>& taps) override {
    torch::NoGradGuard ng;
    return net_->forward(images, taps);
  }

  int64_t embedding_dim() const override { return net_->embedding_dim; }

  std::map<std::string, at::Tensor> state() override {
    std::map<std::string, at::Tensor> s;
    for (const auto& p : net_->named_parameters()) s[p.key()] = p.value();
    for (const auto& b : net_->named_buffers()) s[b.key()] = b.value();
    return s;
  }

  void load_torchscript(const std::string& path) override {
    torch::jit::script::Module m;
    try {
      m = torch::jit::load(path);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      msg = msg.substr(0, msg.find('\n'));
      TC_FAIL(path, ": not a loadable TorchScript file (", msg, ")");
    }
    std::map<std::string, torch::Tensor> theirs;
    for (const auto& p : m.named_parameters()) theirs[p.name] = p.value;
    for (const auto& b : m.named_buffers()) theirs[b.name] = b.value;
    auto ours = state();
    std::vector<std::string> missing, unexpected, mismatched;
    for (const auto& [k, v] : ours) {
      const auto it = theirs.find(k);
      if (it == theirs.end()) missing.push_back(k);
      else if (it->second.sizes() != v.sizes()) {
        std::ostringstream os;
        os << k << " " << it->second.sizes() << " (expected " << v.sizes() << ")";
        mismatched.push_back(os.str());
      }
    }
    for (const auto& [k, _] : theirs)
      if (!ours.count(k)) unexpected.push_back(k);
    TC_CHECK(missing.empty() && unexpected.empty() && mismatched.empty(), path,
             ": weights do not fit ", name_, ": missing [", join(missing), "], unexpected [",
             join(unexpected), "], wrong shape [", join(mismatched), "]");
    torch::NoGradGuard ng;
    for (auto& [k, v] : ours) v.copy_(theirs.at(k).to(v.dtype()));
    core::log_info("backbone ", name_, ": loaded ", ours.size(), " tensors from ", path);
  }

  void recalibrate_batchnorm(const std::vector<at::Tensor>& batches) override {
    torch::NoGradGuard ng;
    std::vector<nn::BatchNorm2dImpl*> bns;
    for (auto& m : net_->modules(false))
      if (auto* b = m->as<nn::BatchNorm2dImpl>()) {
        b->options.momentum(c10::nullopt);  // cumulative average over all batches
        b->reset_running_stats();
        bns.push_back(b);
      }
    net_->train();
    for (const auto& x : batches) net_->forward(x, {"layer4"});
    net_->eval();
    for (auto* b : bns) b->options.momentum(0.1);
  }

 private:
  ResNet net_;
};

}  // namespace

std::unique_ptr<Backbone> Backbone::create(const BackboneOptions& opts) {
  return std::make_unique<TorchvisionResNet>(opts);
}

void recalibrate_batchnorm(Backbone& backbone, const std::vector<at::Tensor>& batches) {
  backbone.recalibrate_batchnorm(batches);
}

}  // namespace tc::features
