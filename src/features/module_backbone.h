// What every LibTorch-defined backbone shares: its state by parameter name,
// loading a TorchScript file by name and shape, and re-estimating BatchNorm
// statistics. A subclass builds its network and says how to run all of it.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/features/backbone.h"

namespace tc::features {

/// torch::jit::load with the project's error: the file and the loader's first line.
torch::jit::script::Module load_torchscript_file(const std::string& path);

/// "a, b, c (+N more)": the first `max` names.
std::string join_names(const std::vector<std::string>& v, size_t max = 8);

// The backbones (one file each), in the table of backbone.cpp.
std::unique_ptr<Backbone> make_resnet(const BackboneOptions& o);
std::unique_ptr<Backbone> make_efficientnet_lite0(const BackboneOptions& o);
std::unique_ptr<Backbone> make_torchscript_backbone(const BackboneOptions& o);
/// Their taps, shallow to deep.
const std::vector<std::string>& resnet_taps();
const std::vector<std::string>& efficientnet_lite0_taps();

class ModuleBackbone : public Backbone {
 public:
  /// Without autograd: run_taps of the subclass.
  std::map<std::string, at::Tensor> forward(const at::Tensor& images,
                                            const std::vector<std::string>& taps) override;
  std::map<std::string, at::Tensor> state() override;
  void load_torchscript(const std::string& path) override;
  void recalibrate_batchnorm(const std::vector<at::Tensor>& batches) override;

 protected:
  virtual torch::nn::Module& net() = 0;
  virtual std::map<std::string, at::Tensor> run_taps(const at::Tensor& x,
                                                     const std::vector<std::string>& taps) = 0;
  /// The whole network on `x`, every BatchNorm included (for recalibration).
  virtual void run_all(const at::Tensor& x) = 0;
};

}  // namespace tc::features
