// PatchCore's patch embedding (SPEC 2): per tapped layer a 3x3 neighbourhood
// (unfold, zero padding), the neighbourhood vector (order c, ki, kj) pooled to
// target_dim by adaptive average pooling, deeper layers bilinearly resized to
// the first layer's grid, then the layers' vectors concatenated layer-major
// and pooled once more to target_dim. Half the dimensions of the result come
// from each of two layers: it is not a mean of the layers.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tailedcore/features/embedder_options.h"

namespace tc::features {

class Backbone;

class PatchEmbedder {
 public:
  PatchEmbedder(Backbone& backbone, EmbedderOptions opts);

  struct Output {
    at::Tensor patches;     // [B * h * w, target_dim] float32; row = b*h*w + y*w + x
    at::Tensor embeddings;  // [B, E] float32, or undefined
    int64_t h = 0, w = 0;
  };
  /// On the CPU with several threads, chunks of the batch run on one thread
  /// each (see the .cpp); the rows are those of one batched forward.
  Output embed(const at::Tensor& images);
  const EmbedderOptions& options() const { return opts_; }

 private:
  Output embed_one_team(const at::Tensor& images);

  Backbone& backbone_;
  EmbedderOptions opts_;
};

/// Patch features from already computed layer maps (the embedding without the
/// backbone): maps[i] is [B, C_i, h_i, w_i]; the first sets the grid.
at::Tensor embed_layer_maps(const std::vector<at::Tensor>& maps, int64_t target_dim);

/// adaptive_avg_pool1d along dim 1 of [B, D, L] to [B, out, L], exactly as
/// torch's bins: bin i averages [floor(i*D/out), ceil((i+1)*D/out)).
at::Tensor adaptive_mean_dim1(const at::Tensor& x, int64_t out);

}  // namespace tc::features
