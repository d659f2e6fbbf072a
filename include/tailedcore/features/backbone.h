// The backbones, run in inference mode:
// - resnet18, resnet50, wideresnet50: torchvision's architecture and
//   parameter/buffer names ("layer2.0.downsample.1.running_mean"); taps
//   layer1..layer4, avgpool. Weights from a TorchScript file exported from
//   torchvision (launch/export_backbone.py);
// - efficientnet_lite0: the PyTorch port's names ("_blocks.4._bn2.running_var");
//   taps stage1..stage7 (stage3: stride 8, 40 channels; stage5: stride 16, 112
//   channels), head (1280 channels, stride 32) and avgpool (the head's mean).
//   ImageNet weights: launch/convert_efficientnet_lite0.py, run by setup.sh;
// - torchscript: any TorchScript module the user exports whose forward returns
//   Dict[str, Tensor] of named maps; the taps are its keys, named in the config.
// LibTorch-defined backbones load weights by name and shape; without weights
// they are initialised from the seed (kaiming for the ResNets, as torchvision).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tc::features {

struct BackboneOptions {
  std::string name = "wideresnet50";  // one of backbone_names()
  std::string weights_path;  // TorchScript file; "" = seeded random init (not for torchscript)
  uint64_t seed = 0;
  int64_t base_width = 64;  // channels of conv1 (64 in torchvision; tests use less)
};

class Backbone {
 public:
  static std::unique_ptr<Backbone> create(const BackboneOptions& opts);
  virtual ~Backbone() = default;

  /// images [B, 3, H, W] float32 normalised -> the requested taps
  /// ([B, C, h, w] maps, "avgpool" [B, E]); the forward stops after the
  /// deepest tap (a torchscript module runs whole).
  virtual std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                                    const std::vector<std::string>& taps) = 0;
  /// Channels of the avgpool output (512 for resnet18, 1280 for
  /// efficientnet_lite0, 2048 for the others; -1 for torchscript: unknown).
  virtual int64_t embedding_dim() const = 0;
  /// Every parameter and buffer by torchvision name.
  virtual std::map<std::string, at::Tensor> state() = 0;
  /// Loads a TorchScript file; a missing, unexpected or mis-shaped name is an
  /// error listing them, with the file.
  virtual void load_torchscript(const std::string& path) = 0;
  /// Re-estimates every BatchNorm's running mean/var on `batches` (cumulative
  /// average over all batches, as momentum=None), then returns to eval mode.
  virtual void recalibrate_batchnorm(const std::vector<at::Tensor>& batches) = 0;
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
};

/// A backbone the config can name: one line of the table in backbone.cpp.
struct BackboneKind {
  std::string name;  // model.backbone_names
  std::function<std::unique_ptr<Backbone>(const BackboneOptions&)> make;
  /// What forward offers, shallow to deep; empty: whatever the module
  /// returns (torchscript: the config names them, checked on the first batch).
  std::vector<std::string> taps;
  /// The tap that is a [B, E] embedding, not a patch map
  /// (embedding_to_extract_from may name it, layers_to_extract may not).
  std::string embedding_tap;

  /// taps but embedding_tap: what model.layers_to_extract takes.
  std::vector<std::string> maps() const;
};

/// The backbone called `name`; an unknown name is an error listing the known ones.
const BackboneKind& backbone_kind(const std::string& name);
/// Every backbone name Backbone::create knows, in table order.
std::vector<std::string> backbone_names();
/// Adds a backbone after the built-in ones (a name taken is an error);
/// returns true, so that `const bool r = register_backbone(...);` at
/// namespace scope registers before main (see models::register_method for
/// why built-ins are a table instead).
bool register_backbone(BackboneKind kind);

/// Re-estimates BatchNorm statistics (see Backbone::recalibrate_batchnorm).
void recalibrate_batchnorm(Backbone& backbone, const std::vector<at::Tensor>& batches);

}  // namespace tc::features
