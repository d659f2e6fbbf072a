// A backbone the user exports as TorchScript (timm, DINO, their own network):
// forward(images [B, 3, H, W]) returns a Dict[str, Tensor] of named feature
// maps ([B, C, h, w], or [B, E] for a pooled embedding); the config names the
// taps (layers_to_extract, embedding_to_extract_from) among those keys. Its
// weights are its own: there is no random initialisation and no BatchNorm
// re-estimation.
#include <torch/script.h>
#include <torch/torch.h>

#include "module_backbone.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"

namespace tc::features {
namespace {

class TorchScriptBackbone final : public Backbone {
 public:
  explicit TorchScriptBackbone(const BackboneOptions& o) : path_(o.weights_path) {
    name_ = o.name;
    TC_CHECK(!path_.empty(),
             "backbone 'torchscript' needs model.backbone_weights: a TorchScript file whose "
             "forward returns a dict of named feature maps");
    module_ = load_torchscript_file(path_);
    module_.eval();
    core::log_info("backbone torchscript: ", path_);
  }

  std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                            const std::vector<std::string>& taps) override {
    torch::NoGradGuard ng;
    c10::IValue result;
    try {
      result = module_.forward({images});
    } catch (const std::exception& e) {
      std::string msg = e.what();
      TC_FAIL(path_, ": forward failed on a batch ", images.sizes(), " (",
              msg.substr(0, msg.find('\n')), ")");
    }
    TC_CHECK(result.isGenericDict(), path_, ": forward returned ", result.tagKind(),
             ": expected a Dict[str, Tensor] of named feature maps");
    std::map<std::string, at::Tensor> all;
    for (const auto& kv : result.toGenericDict()) {
      TC_CHECK(kv.key().isString() && kv.value().isTensor(), path_,
               ": forward returned a dict that is not Dict[str, Tensor]");
      all[kv.key().toStringRef()] = kv.value().toTensor().to(torch::kFloat32).contiguous();
    }
    std::map<std::string, at::Tensor> out;
    for (const auto& t : taps) {
      const auto it = all.find(t);
      if (it == all.end()) {
        std::vector<std::string> names;
        for (const auto& [k, _] : all) names.push_back(k);
        TC_FAIL(path_, ": forward returned no '", t, "': its keys are [",
                join_names(names, names.size()), "]");
      }
      const auto d = it->second.dim();
      TC_CHECK(d == 4 || d == 2, path_, ": '", t, "' has shape ", it->second.sizes(),
               ": expected [B, C, h, w] or [B, E]");
      out[t] = it->second;
    }
    return out;
  }

  int64_t embedding_dim() const override { return -1; }  // known after a forward

  std::map<std::string, at::Tensor> state() override {
    std::map<std::string, at::Tensor> s;
    for (const auto& p : module_.named_parameters()) s[p.name] = p.value;
    for (const auto& b : module_.named_buffers()) s[b.name] = b.value;
    return s;
  }

  void load_torchscript(const std::string& path) override {
    module_ = load_torchscript_file(path);
    module_.eval();
    path_ = path;
  }

  void recalibrate_batchnorm(const std::vector<at::Tensor>&) override {
    TC_FAIL(
        "backbone 'torchscript' keeps its own weights: BatchNorm statistics cannot be "
        "re-estimated");
  }

 private:
  std::string path_;
  torch::jit::script::Module module_;
};

}  // namespace

std::unique_ptr<Backbone> make_torchscript_backbone(const BackboneOptions& o) {
  return std::make_unique<TorchScriptBackbone>(o);
}

}  // namespace tc::features
