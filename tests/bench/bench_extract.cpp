// Feature extraction on WideResNet-50-2 at 224 x 224: PatchEmbedder::embed
// (backbone to layer3 + the patch embedding) against a plain LibTorch forward
// of the same network to layer3 on the same batches, in the same run. Target:
// the embedding adds at most 15 %.
//
//   build/tests/bench_extract [images=256] [batch=32] [backbone=wideresnet50] [side=224] [weights=]
//   (from the repository root; efficientnet_lite0 taps stage3 + stage5, the others layer2 + layer3)
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "driver.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"

int main(int argc, char** argv) {
  const int64_t images = argc > 1 ? std::stoll(argv[1]) : 256;
  const int64_t batch = argc > 2 ? std::stoll(argv[2]) : 32;
  const std::string name = argc > 3 ? argv[3] : "wideresnet50";
  const int64_t side = argc > 4 ? std::stoll(argv[4]) : 224;
  const std::vector<std::string> taps = name == "efficientnet_lite0"
                                            ? std::vector<std::string>{"stage3", "stage5"}
                                            : std::vector<std::string>{"layer2", "layer3"};
  const int threads = tc::core::set_thread_count(0);
  tc::features::BackboneOptions bo;
  bo.name = name;
  if (argc > 5) bo.weights_path = argv[5];
  auto backbone = tc::features::Backbone::create(bo);
  tc::features::PatchEmbedder embedder(*backbone, {taps, 1024, false});
  torch::manual_seed(0);
  std::vector<torch::Tensor> batches;
  for (int64_t s = 0; s < images; s += batch)
    batches.push_back(torch::randn({std::min(batch, images - s), 3, side, side}));

  int64_t rows = 0;
  const auto plain = tc::bench::time_it(
      [&] {
        for (const auto& b : batches) backbone->forward(b, taps);
      },
      1, 0);
  const auto embed = tc::bench::time_it(
      [&] {
        rows = 0;
        for (const auto& b : batches) rows += embedder.embed(b).patches.size(0);
      },
      1, 0);
  const double overhead = embed.min_s / plain.min_s - 1.0;
  tc::bench::CsvReport csv("extract",
                           "backbone,images,batch,threads,forward_s,extract_s,forward_img_s,"
                           "extract_img_s,overhead,peak_rss_mib,rows");
  const std::string label =
      side == 224 ? name : name + "@" + std::to_string(side);  // the row's backbone
  char line[512];
  std::snprintf(line, sizeof line, "%s,%lld,%lld,%d,%.2f,%.2f,%.2f,%.2f,%.3f,%.0f,%lld",
                label.c_str(), static_cast<long long>(images), static_cast<long long>(batch),
                threads, plain.min_s, embed.min_s, images / plain.min_s, images / embed.min_s,
                overhead, tc::bench::peak_rss_mib(), static_cast<long long>(rows));
  csv.row(line);
  return 0;
}
