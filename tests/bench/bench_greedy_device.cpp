// bench_greedy_device: the greedy coreset step on the GPU (GreedyDeviceBlock)
// against the CPU step (update_min_distances, OpenMP) on the same projected
// bank and the same centre sequence, measured in the same run. The `wrong`
// column counts steps whose farthest distance differs from the CPU's beyond
// float rounding. The GPU time includes copying the bank to the device.
// Without a CUDA device it says so and exits 0.
//
//   bench_greedy_device [rows=200000] [dim=128] [steps=100]   (launch/gpu_check.sh: 1000 steps)
// Writes results/bench/gpu/greedy_step.csv.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "driver.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/nccl_comm.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/greedy_device.h"

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 200000;
  const int64_t dim = argc > 2 ? std::atoll(argv[2]) : 128;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 100;
  if (tc::dist::cuda_device_count() == 0) {
    std::printf("bench_greedy_device: no CUDA device (built with CUDA: %s): nothing to measure\n",
                tc::dist::built_with_cuda() ? "yes" : "no");
    return 0;
  }
  const int threads = tc::core::set_thread_count();
  torch::manual_seed(0);
  auto bank = torch::randn({rows, dim});
  const float* data = bank.data_ptr<float>();

  // The CPU run fixes the centre sequence; the GPU replays it and is checked step by step.
  std::vector<int64_t> centres;
  std::vector<float> cpu_values;
  auto cpu = tc::bench::time_it([&] {
    std::vector<float> min_dist(rows, std::numeric_limits<float>::infinity());
    centres.assign(1, 0);
    cpu_values.clear();
    for (int s = 0; s < steps; ++s) {
      const auto best = tc::sampling::update_min_distances(
          data, rows, dim, data + centres.back() * dim, min_dist.data());
      cpu_values.push_back(best.value);
      centres.push_back(best.index);
    }
  });
  int wrong = 0;
  auto gpu = tc::bench::time_it([&] {
    tc::sampling::GreedyDeviceBlock fresh(data, rows, dim, 0);
    wrong = 0;
    for (int s = 0; s < steps; ++s) {
      const auto got = fresh.update(data + centres[s] * dim);
      const float tol = 1e-5f * (1.f + cpu_values[s]);
      if (std::abs(got.value - cpu_values[s]) > tol) ++wrong;
    }
  });
  tc::bench::CsvReport csv("gpu/greedy_step",
                           "rows,dim,steps,cpu_threads,cpu_min_s,gpu_min_s,speedup,wrong");
  char line[256];
  std::snprintf(line, sizeof line, "%lld,%lld,%d,%d,%.6f,%.6f,%.2f,%d",
                static_cast<long long>(rows), static_cast<long long>(dim), steps, threads,
                cpu.min_s, gpu.min_s, cpu.min_s / gpu.min_s, wrong);
  csv.row(line);
  return wrong == 0 ? 0 : 1;
}
