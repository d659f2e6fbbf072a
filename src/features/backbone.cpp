// The backbone table: each backbone's name, factory, taps and embedding tap.
#include "tailedcore/features/backbone.h"

#include <algorithm>

#include "module_backbone.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"

namespace tc::features {
namespace {

std::vector<BackboneKind>& table() {
  static std::vector<BackboneKind> kinds = {
      {"resnet18", make_resnet, resnet_taps(), "avgpool"},
      {"resnet50", make_resnet, resnet_taps(), "avgpool"},
      {"wideresnet50", make_resnet, resnet_taps(), "avgpool"},
      {"efficientnet_lite0", make_efficientnet_lite0, efficientnet_lite0_taps(), "avgpool"},
      {"torchscript", make_torchscript_backbone, {}, ""},
  };
  return kinds;
}

}  // namespace

std::vector<std::string> BackboneKind::maps() const {
  std::vector<std::string> out;
  for (const auto& t : taps)
    if (t != embedding_tap) out.push_back(t);
  return out;
}

const BackboneKind& backbone_kind(const std::string& name) {
  for (const auto& k : table())
    if (k.name == name) return k;
  TC_FAIL("backbone '", name, "' is unknown: expected one of ", core::join_names(backbone_names()));
}

std::vector<std::string> backbone_names() {
  std::vector<std::string> names;
  for (const auto& k : table()) names.push_back(k.name);
  return names;
}

bool register_backbone(BackboneKind kind) {
  const auto known = backbone_names();
  TC_CHECK(std::find(known.begin(), known.end(), kind.name) == known.end(), "register_backbone: '",
           kind.name, "' is taken: the backbones are ", core::join_names(known));
  TC_CHECK(kind.taps.empty() || std::count(kind.taps.begin(), kind.taps.end(), kind.embedding_tap),
           "register_backbone: '", kind.name, "': the embedding tap '", kind.embedding_tap,
           "' is not among its taps ", core::join_names(kind.taps));
  table().push_back(std::move(kind));
  return true;
}

std::unique_ptr<Backbone> Backbone::create(const BackboneOptions& opts) {
  return backbone_kind(opts.name).make(opts);
}

void recalibrate_batchnorm(Backbone& backbone, const std::vector<at::Tensor>& batches) {
  backbone.recalibrate_batchnorm(batches);
}

}  // namespace tc::features
