// bench_device_stages: the heavy stages on the rank's device (model.device),
// each against a bound measured in the same run:
//   matmul   float32 [q, d] x [d, m] (no TF32): the machine's matrix rate, the bound of kNN;
//   knn      index::TorchKnn (chunked addmm + top-k) over the same shapes, as a fraction of
//            that rate; `wrong` counts sampled queries whose distance differs from FAISS on
//            the host beyond float tolerance;
//   extract  features: PatchEmbedder::embed (backbone forward + patch embedding + copy to
//            the host) in images/s against the plain LibTorch forward of the same backbone.
// On the CPU (no device) it measures the CPU, at the sizes given.
//
//   bench_device_stages [--bank 50000] [--queries 50000] [--dim 1024] [--images 256]
//                       [--batch 32] [--size 224] [--backbone wideresnet50]
// Writes results/bench/gpu/device_stages.csv (launch/gpu_check.sh runs it).
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "driver.h"
#include "tailedcore/dist/device_startup.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "tailedcore/features/move_to_device.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/index/torch_knn.h"

namespace {

void sync(const c10::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

}  // namespace

int main(int argc, char** argv) {
  using tc::bench::arg;
  const int64_t m = arg(argc, argv, "--bank", 50000), n = arg(argc, argv, "--queries", 50000);
  const int64_t dim = arg(argc, argv, "--dim", 1024), images = arg(argc, argv, "--images", 256);
  const int64_t batch = arg(argc, argv, "--batch", 32), size = arg(argc, argv, "--size", 224);
  const std::string backbone_name = tc::bench::arg_text(argc, argv, "--backbone", "wideresnet50");
  const auto device = tc::dist::resolve_device("auto", tc::dist::device_environment());
  tc::dist::configure_device_math(device);
  const std::string where = tc::dist::describe_device(device);
  std::printf("bench_device_stages on %s\n", where.c_str());
  torch::NoGradGuard ng;
  tc::bench::CsvReport csv("gpu/device_stages",
                           "device,case,shape,seconds,rate,unit,of_bound,wrong");
  char line[512];

  // --- matmul rate and kNN --------------------------------------------------------------
  torch::manual_seed(0);
  const auto bank = torch::randn({m, dim});
  const auto queries = torch::randn({n, dim});
  const auto bank_d = bank.to(device), q_d = queries.to(device);
  const int64_t q_chunk = std::min<int64_t>(n, 8192);
  const auto mm = tc::bench::time_it([&] {
    for (int64_t s = 0; s < n; s += q_chunk)
      (void)torch::mm(q_d.narrow(0, s, std::min(q_chunk, n - s)), bank_d.t()).max();
    sync(device);
  });
  const double flops =
      2.0 * static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(dim);
  const double mm_rate = flops / mm.min_s / 1e12;
  std::snprintf(line, sizeof line, "%s,matmul,%lldx%lldx%lld,%.4f,%.2f,TFLOP/s,1,0", where.c_str(),
                static_cast<long long>(n), static_cast<long long>(dim), static_cast<long long>(m),
                mm.min_s, mm_rate);
  csv.row(line);

  // The search as run (float32 products), then with TF32 products: the rate it would buy and
  // how many of the sampled distances move past the tolerance (its AUROC cost needs a full run).
  int64_t wrong_f32 = 0;  // the exit status: TF32 may move distances past the tolerance by design
  for (const bool tf32 : {false, true}) {
    if (tf32 && !device.is_cuda()) continue;
    tc::index::KnnOptions ko;
    ko.tf32 = tf32;
    const tc::index::TorchKnn knn(bank, 1, device, ko);
    tc::index::SearchResult got;
    const auto kt = tc::bench::time_it([&] { got = knn.search(q_d); });
    // Correctness on a sample against FAISS (flat, host).
    const int64_t sample = std::min<int64_t>(n, 2000);
    const auto want = tc::index::NearestNeighbors(bank, tc::index::IndexOptions{})
                          .search(queries.narrow(0, 0, sample));
    const auto dg = got.distances.narrow(0, 0, sample);
    const auto wrong =
        ((dg - want.distances).abs() > 1e-4 * (want.distances.abs() + 1)).sum().item<int64_t>();
    const double knn_rate = flops / kt.min_s / 1e12;
    std::snprintf(line, sizeof line,
                  "%s,%s,%lld queries x %lld rows x %lld,%.4f,%.2f,TFLOP/s,%.3f,%lld",
                  where.c_str(), tf32 ? "knn_tf32" : "knn", static_cast<long long>(n),
                  static_cast<long long>(m), static_cast<long long>(dim), kt.min_s, knn_rate,
                  knn_rate / mm_rate, static_cast<long long>(wrong));
    csv.row(line);
    if (!tf32) wrong_f32 = wrong;
  }

  // --- extraction -----------------------------------------------------------------------
  tc::features::BackboneOptions bo;
  bo.name = backbone_name;
  auto backbone = tc::features::Backbone::create(bo);
  tc::features::move_to_device(*backbone, device);
  tc::features::EmbedderOptions eo;  // layer2 + layer3 -> 1024, as the reference
  tc::features::PatchEmbedder embedder(*backbone, eo);
  const auto host_batch = torch::randn({batch, 3, size, size});
  const int64_t batches = std::max<int64_t>(1, images / batch);
  const auto fwd = tc::bench::time_it([&] {
    for (int64_t b = 0; b < batches; ++b) (void)backbone->forward(host_batch.to(device), eo.layers);
    sync(device);
  });
  const auto emb = tc::bench::time_it([&] {
    for (int64_t b = 0; b < batches; ++b)
      (void)embedder.embed(host_batch.to(device)).patches.to(torch::kCPU);
  });
  const double fwd_ips = static_cast<double>(batches * batch) / fwd.min_s;
  const double emb_ips = static_cast<double>(batches * batch) / emb.min_s;
  std::snprintf(line, sizeof line, "%s,forward %s,%lld x 3x%lldx%lld,%.4f,%.1f,images/s,1,0",
                where.c_str(), backbone_name.c_str(), static_cast<long long>(batches * batch),
                static_cast<long long>(size), static_cast<long long>(size), fwd.min_s, fwd_ips);
  csv.row(line);
  std::snprintf(line, sizeof line, "%s,extract %s,%lld x 3x%lldx%lld,%.4f,%.1f,images/s,%.3f,0",
                where.c_str(), backbone_name.c_str(), static_cast<long long>(batches * batch),
                static_cast<long long>(size), static_cast<long long>(size), emb.min_s, emb_ips,
                emb_ips / fwd_ips);
  csv.row(line);
  return wrong_f32 == 0 ? 0 : 1;
}
