// The backbone registry: names, their taps, and Backbone::create.
#include "tailedcore/features/backbone.h"

#include "module_backbone.h"

namespace tc::features {

const std::vector<std::string>& backbone_names() {
  static const std::vector<std::string> names = {"resnet18", "resnet50", "wideresnet50",
                                                 "efficientnet_lite0", "torchscript"};
  return names;
}

std::vector<std::string> backbone_taps(const std::string& name) {
  if (name == "efficientnet_lite0") return efficientnet_lite0_taps();
  if (name == "torchscript") return {};
  return resnet_taps(name);  // an unknown name fails here
}

std::unique_ptr<Backbone> Backbone::create(const BackboneOptions& opts) {
  if (opts.name == "efficientnet_lite0") return make_efficientnet_lite0(opts);
  if (opts.name == "torchscript") return make_torchscript_backbone(opts);
  return make_resnet(opts);
}

void recalibrate_batchnorm(Backbone& backbone, const std::vector<at::Tensor>& batches) {
  backbone.recalibrate_batchnorm(batches);
}

}  // namespace tc::features
