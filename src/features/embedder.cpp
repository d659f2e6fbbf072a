#include "tailedcore/features/embedder.h"

#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"
#include "tailedcore/features/backbone.h"

namespace tc::features {

at::Tensor adaptive_mean_dim1(const at::Tensor& x, int64_t out) {
  const int64_t D = x.size(1);
  if (D == out) return x;
  // Bins are contiguous ranges of at most ceil(D/out)+1 elements: sum them
  // element by element in order (as torch does), then divide by the length.
  std::vector<int64_t> start(out), len(out);
  int64_t max_len = 0;
  for (int64_t i = 0; i < out; ++i) {
    start[i] = (i * D) / out;
    const int64_t end = ((i + 1) * D + out - 1) / out;
    len[i] = end - start[i];
    max_len = std::max(max_len, len[i]);
  }
  const auto starts = torch::tensor(start).to(x.device());
  const auto lens = torch::tensor(len).to(x.device());
  torch::Tensor acc = x.index_select(1, starts);
  for (int64_t t = 1; t < max_len; ++t) {
    const auto idx = torch::minimum(starts + t, torch::full_like(starts, D - 1));
    const auto valid = (lens > t).to(x.dtype()).view({1, out, 1});
    acc = acc + x.index_select(1, idx) * valid;
  }
  return acc / lens.to(x.dtype()).view({1, out, 1});
}

at::Tensor embed_layer_maps(const std::vector<at::Tensor>& maps, int64_t target_dim) {
  TC_CHECK(!maps.empty(), "no layer maps to embed");
  const int64_t B = maps[0].size(0), h = maps[0].size(2), w = maps[0].size(3);
  std::vector<torch::Tensor> pooled;
  for (const auto& m : maps) {
    // 3x3 neighbourhoods, flattened (c, ki, kj): [B, C*9, h_l*w_l].
    auto u = torch::nn::functional::unfold(m, torch::nn::functional::UnfoldFuncOptions(3).padding(1));
    auto p = adaptive_mean_dim1(u, target_dim);  // [B, target, L_l]
    // Pooling across channels commutes with the per-channel bilinear resize,
    // so deeper layers are resized after pooling (target_dim maps, not C*9).
    if (m.size(2) != h || m.size(3) != w) {
      p = torch::nn::functional::interpolate(
              p.view({B, target_dim, m.size(2), m.size(3)}),
              torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{h, w})
                  .mode(torch::kBilinear)
                  .align_corners(false))
              .view({B, target_dim, h * w});
    }
    pooled.push_back(p);
  }
  auto stacked = torch::cat(pooled, 1);                          // [B, n*target, L], layer-major
  auto agg = adaptive_mean_dim1(stacked, target_dim);            // [B, target, L]
  return agg.permute({0, 2, 1}).reshape({B * h * w, target_dim}).contiguous();
}

PatchEmbedder::PatchEmbedder(Backbone& backbone, EmbedderOptions opts)
    : backbone_(backbone), opts_(std::move(opts)) {
  TC_CHECK(!opts_.layers.empty(), "layers_to_extract is empty: expected e.g. [layer2, layer3]");
  TC_CHECK(opts_.target_dim >= 1, "embedding dimension ", opts_.target_dim, ": expected >= 1");
}

PatchEmbedder::Output PatchEmbedder::embed(const at::Tensor& images) {
  torch::NoGradGuard ng;
  std::vector<std::string> taps = opts_.layers;
  if (opts_.global_embedding && std::find(taps.begin(), taps.end(), opts_.global_layer) == taps.end())
    taps.push_back(opts_.global_layer);
  auto out = backbone_.forward(images, taps);
  std::vector<torch::Tensor> maps;
  for (const auto& l : opts_.layers) maps.push_back(out.at(l));
  Output o;
  o.h = maps[0].size(2);
  o.w = maps[0].size(3);
  o.patches = embed_layer_maps(maps, opts_.target_dim);
  if (opts_.global_embedding) {
    const auto& g = out.at(opts_.global_layer);
    o.embeddings = (g.dim() == 4 ? g.mean({2, 3}) : g).contiguous();
  }
  return o;
}

}  // namespace tc::features
