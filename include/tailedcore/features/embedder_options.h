// The patch embedding's options, apart from the embedder so that the config
// (exp/config.h) takes its defaults from them without LibTorch's headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tc::features {

struct EmbedderOptions {
  std::vector<std::string> layers{"layer2", "layer3"};
  int64_t target_dim = 1024;
  bool global_embedding = false;  // also return a global embedding per image
  /// A tap of the backbone: "avgpool" (the reference: the mean of the deepest
  /// map) or a map tap ("layer2", "stage5", ...): the mean of that map.
  /// Random-weight backbones keep class information in shallow layers, where
  /// the deepest mean has collapsed (DESIGN.md "Known hazards").
  std::string global_layer = "avgpool";
  /// The one range check of these options, naming each by its config key
  /// after `prefix` ("c: model.", or "" where a library call checks its
  /// arguments).
  void validate(const std::string& prefix) const;
};

}  // namespace tc::features
