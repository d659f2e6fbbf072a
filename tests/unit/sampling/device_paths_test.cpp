// The sampling stages' GPU paths (model.device: cuda) against their CPU
// results, on the same inputs. Each skips without a CUDA device and a CUDA
// LibTorch; CI runs the CPU side of the same code through the other tests.
//   LOF: the Gram products and candidates on the GPU, float64 on the host -> identical scores.
//   ExactSimilarity: float64 products on the GPU within the same bound -> identical entries.
//   greedy coreset: GreedyDeviceBlock -> the same centres except after a
//   near-tie within rounding (reported: how many of the selections differ).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/nccl_comm.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/projection.h"
#include "tailedcore/sampling/similarity.h"

namespace {

bool have_gpu() { return torch::cuda::is_available() && tc::dist::cuda_device_count() > 0; }
constexpr const char* kNoGpu = "no CUDA device (or a CPU-only LibTorch / a build without CUDA)";
#define SKIP_WITHOUT_GPU() \
  if (!have_gpu()) GTEST_SKIP() << kNoGpu

TEST(DevicePaths, LofScoresOnTheGpuEqualTheCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(5);
  const int64_t N = 40, P = 30, D = 96;
  auto features = torch::randn({N * P, D});
  features[7] = features[3];  // duplicates: distance 0 both ways
  tc::sampling::LofOptions cpu;
  cpu.proj_dim = 32;
  auto gpu = cpu;
  gpu.cuda_device = 0;
  auto self = tc::dist::make_self_comm();
  const auto a = tc::sampling::patchwise_lof(features, P, cpu, *self);
  const auto b = tc::sampling::patchwise_lof(features, P, gpu, *self);
  EXPECT_TRUE(torch::equal(a.scores, b.scores))
      << "max diff " << (a.scores - b.scores).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(a.kept_indices, b.kept_indices));
}

TEST(DevicePaths, ExactSimilarityOnTheGpuEqualsTheCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(6);
  auto x = torch::randn({300, 512});
  x = x / x.norm(2, 1, true);
  const auto cpu = tc::sampling::ExactSimilarity(x).rows(0, 300);
  const auto gpu = tc::sampling::ExactSimilarity(x, 0).rows(0, 300);
  EXPECT_TRUE(gpu.device().is_cpu());
  EXPECT_TRUE(torch::equal(cpu, gpu)) << "max diff " << (cpu - gpu).abs().max().item<float>();
}

TEST(DevicePaths, GreedyCoresetOnTheGpuTakesTheCpusCentres) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(7);
  auto self = tc::dist::make_self_comm();
  int64_t differing = 0, total = 0;
  for (int64_t n : {500, 20000}) {
    const auto features = torch::randn({n, 256});
    tc::sampling::CoresetOptions cpu;
    cpu.ratio = 0.05;
    cpu.seed = 3;
    auto gpu = cpu;
    gpu.cuda_device = 0;
    const auto a = tc::sampling::greedy_coreset(features, cpu, *self);
    const auto b = tc::sampling::greedy_coreset(features, gpu, *self);
    ASSERT_EQ(a.size(0), b.size(0));
    // After the first differing pick the sequences diverge; count from there.
    const auto diff = (a != b).nonzero();
    const int64_t first = diff.size(0) ? diff[0][0].item<int64_t>() : a.size(0);
    std::printf("[ info ] n=%lld: %lld centres, first difference at %lld\n",
                static_cast<long long>(n), static_cast<long long>(a.size(0)),
                static_cast<long long>(first));
    differing += a.size(0) - first;
    total += a.size(0);
    // A divergence must start at a near-tie: both picks about equally far from the chosen set.
    if (first < a.size(0)) {
      const auto proj = tc::sampling::project(features, cpu.proj_dim, cpu.seed);
      const auto chosen = proj.index_select(0, a.narrow(0, 0, first));
      const auto da =
          torch::cdist(proj[a[first].item<int64_t>()].unsqueeze(0), chosen).min().item<double>();
      const auto db =
          torch::cdist(proj[b[first].item<int64_t>()].unsqueeze(0), chosen).min().item<double>();
      EXPECT_NEAR(da, db, 1e-4 * (1 + da)) << "n=" << n << " step " << first;
    }
  }
  std::printf(
      "[ info ] greedy on the GPU: %lld of %lld selections differ from the CPU's (after "
      "near-ties)\n",
      static_cast<long long>(differing), static_cast<long long>(total));
}

}  // namespace
