#include "tailedcore/features/embedder.h"

#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

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
    auto u =
        torch::nn::functional::unfold(m, torch::nn::functional::UnfoldFuncOptions(3).padding(1));
    auto p = adaptive_mean_dim1(u, target_dim);  // [B, target, L_l]
    // Pooling across channels commutes with the per-channel bilinear resize,
    // so deeper layers are resized after pooling (target_dim maps, not C*9).
    if (m.size(2) != h || m.size(3) != w) {
      p = torch::nn::functional::interpolate(p.view({B, target_dim, m.size(2), m.size(3)}),
                                             torch::nn::functional::InterpolateFuncOptions()
                                                 .size(std::vector<int64_t>{h, w})
                                                 .mode(torch::kBilinear)
                                                 .align_corners(false))
              .view({B, target_dim, h * w});
    }
    pooled.push_back(p);
  }
  auto stacked = torch::cat(pooled, 1);                // [B, n*target, L], layer-major
  auto agg = adaptive_mean_dim1(stacked, target_dim);  // [B, target, L]
  return agg.permute({0, 2, 1}).reshape({B * h * w, target_dim}).contiguous();
}

void EmbedderOptions::validate(const std::string& prefix) const {
  TC_CHECK(!layers.empty(), prefix, "layers_to_extract: expected at least one layer");
  TC_CHECK(target_dim >= 1, prefix, "target_embed_dimension = ", target_dim, ": expected >= 1");
}

PatchEmbedder::PatchEmbedder(Backbone& backbone, EmbedderOptions opts)
    : backbone_(backbone), opts_(std::move(opts)) {
  opts_.validate("");
}

PatchEmbedder::Output PatchEmbedder::embed(const at::Tensor& images) {
  if (!images.is_cpu()) return embed_one_team(images);
  // On the CPU the batch is cut into chunks of 4 images, shared out to
  // `threads` workers that run one thread each, rather than every operator
  // running a team of `threads`: a team meets at a barrier after each of the
  // ~70 operators of a forward, and on a shared machine each barrier waits
  // for a descheduled thread (measured: 2 threads slower than 1 while other
  // jobs ran). Workers claim chunks as they finish, so a slowed core takes
  // fewer. A chunk of 3-4 is as fast per image as a batch of 32 (oneDNN, one
  // thread), and oneDNN computes an image of a chunk of 1 to 8 bit for bit
  // the same (not one of a batch of 27: it picks another kernel), so every
  // image's rows are the same whatever its batch, rank or thread count.
  // The chunks (at most 4 images, as equal as can be) come in a multiple of
  // the thread count, so that no worker is left with one chunk more at the
  // end (20 images on 2 threads: 4, 4, 3, 3, 3, 3, not 4, 4, 4, 4, 4).
  constexpr int64_t max_chunk = 4;
  const int64_t B = images.size(0);
  if (B == 0) return embed_one_team(images);
  const int64_t team = std::max(1, at::get_num_threads());
  const int64_t chunks = std::min(B, team * ((B + max_chunk * team - 1) / (max_chunk * team)));
  const auto chunk_begin = [&](int64_t c) { return c * (B / chunks) + std::min(c, B % chunks); };
  const int threads = static_cast<int>(std::min(team, chunks));
  std::vector<Output> parts(static_cast<size_t>(chunks));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  std::atomic<int64_t> next{0};
  auto work = [&](int worker) {
    try {
      // This thread's operators run alone. OpenMP's thread count is per
      // thread, and ATen sets a new thread's to the global count on its first
      // parallel call: make that call first, then set 1.
      (void)at::get_num_threads();
      omp_set_num_threads(1);
      for (int64_t c = next++; c < chunks; c = next++)
        parts[static_cast<size_t>(c)] =
            embed_one_team(images.narrow(0, chunk_begin(c), chunk_begin(c + 1) - chunk_begin(c)));
    } catch (...) {
      errors[static_cast<size_t>(worker)] = std::current_exception();
      next = chunks;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  {
    const int before = omp_get_max_threads();
    work(0);
    omp_set_num_threads(before);
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  Output o;
  o.h = parts[0].h;
  o.w = parts[0].w;
  std::vector<at::Tensor> patches, embeddings;
  for (const auto& p : parts) {
    patches.push_back(p.patches);
    if (p.embeddings.defined()) embeddings.push_back(p.embeddings);
  }
  o.patches = torch::cat(patches);
  if (!embeddings.empty()) o.embeddings = torch::cat(embeddings);
  return o;
}

PatchEmbedder::Output PatchEmbedder::embed_one_team(const at::Tensor& images) {
  torch::NoGradGuard ng;
  std::vector<std::string> taps = opts_.layers;
  if (opts_.global_embedding &&
      std::find(taps.begin(), taps.end(), opts_.global_layer) == taps.end())
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
