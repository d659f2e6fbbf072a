// The CUDA greedy step against the CPU one (update_min_distances), step by
// step on random rows with a planted tie. Skips without a CUDA device.
#include "tailedcore/sampling/greedy_device.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/nccl_comm.h"
#include "tailedcore/sampling/coreset.h"

namespace {

TEST(GreedyDevice, WithoutCudaTheConstructorSaysSo) {
  if (tc::dist::built_with_cuda()) GTEST_SKIP() << "built with CUDA";
  const float row[2] = {0.f, 1.f};
  EXPECT_THROW(tc::sampling::GreedyDeviceBlock(row, 1, 2, 0), tc::Error);
}

TEST(GreedyDevice, StepsMatchTheCpu) {
  if (tc::dist::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  for (auto [b, d] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {37, 5}, {1000, 128}, {70000, 33}}) {
    torch::manual_seed(b + d);
    auto rows = torch::randn({b, d});
    if (b > 2) rows[b - 1] = rows[1];  // two rows always equally far: the lower index must win
    tc::sampling::GreedyDeviceBlock dev(rows.data_ptr<float>(), b, d, 0);
    std::vector<float> cpu_min(b, std::numeric_limits<float>::infinity()), dev_min(b);
    int64_t centre = 0;
    for (int step = 0; step < 6; ++step) {
      const float* c = rows[centre].data_ptr<float>();
      const auto want =
          tc::sampling::update_min_distances(rows.data_ptr<float>(), b, d, c, cpu_min.data());
      const auto got = dev.update(c);
      dev.min_distances(dev_min.data());
      for (int64_t i = 0; i < b; ++i)
        ASSERT_NEAR(dev_min[i], cpu_min[i], 1e-5f * (1.f + cpu_min[i]))
            << "b=" << b << " d=" << d << " row " << i;
      // The same row, or (float rounding) one whose CPU distance equals the winner's to tolerance.
      EXPECT_NEAR(got.value, want.value, 1e-5f * (1.f + want.value)) << "b=" << b << " d=" << d;
      if (got.index != want.index)
        EXPECT_NEAR(cpu_min[got.index], want.value, 1e-5f * (1.f + want.value))
            << "b=" << b << " step " << step;
      centre = want.index;
    }
  }
}

}  // namespace
