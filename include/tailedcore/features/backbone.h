// ResNet-18, ResNet-50 and WideResNet-50-2 with torchvision's architecture and
// parameter/buffer names ("layer2.0.downsample.1.running_mean"), run in
// inference mode. Weights come from a TorchScript file exported from
// torchvision (launch/export_backbone.py), matched by name and shape; without
// one they are initialised from the seed as torchvision does (kaiming).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace tc::features {

struct BackboneOptions {
  std::string name = "wideresnet50";  // resnet18 | resnet50 | wideresnet50
  std::string weights_path;           // TorchScript file; "" = seeded random init
  uint64_t seed = 0;
  int64_t base_width = 64;            // channels of conv1 (64 in torchvision; tests use less)
};

class Backbone {
 public:
  static std::unique_ptr<Backbone> create(const BackboneOptions& opts);
  virtual ~Backbone() = default;

  /// images [B, 3, H, W] float32 normalised -> the requested taps
  /// ("layer1".."layer4" [B, C, h, w], "avgpool" [B, E]); the forward stops
  /// after the deepest tap.
  virtual std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                                    const std::vector<std::string>& taps) = 0;
  /// Channels of the avgpool output (512 for resnet18, 2048 for the others).
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

/// Re-estimates BatchNorm statistics (see Backbone::recalibrate_batchnorm).
void recalibrate_batchnorm(Backbone& backbone, const std::vector<at::Tensor>& batches);

}  // namespace tc::features
