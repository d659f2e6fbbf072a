#include "tailedcore/features/move_to_device.h"

#include <torch/torch.h>

#include "tailedcore/features/backbone.h"

namespace tc::features {

void move_to_device(Backbone& backbone, const c10::Device& device) {
  torch::NoGradGuard ng;
  // set_data swaps the storage under the same tensor (what nn::Module::to does),
  // so the modules -- LibTorch or TorchScript -- hold the moved tensors.
  for (auto& [name, t] : backbone.state())
    if (t.device() != device) t.set_data(t.to(device));
}

}  // namespace tc::features
