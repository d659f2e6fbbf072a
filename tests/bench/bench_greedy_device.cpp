// bench_greedy_device: the greedy coreset step on the GPU (GreedyDeviceBlock)
// against the CPU step (update_min_distances, OpenMP) on the same projected
// bank and the same centre sequence, measured in the same run. The `wrong`
// column counts steps whose farthest distance differs from the CPU's beyond
// float rounding. The GPU time includes copying the bank to the device.
// Without a CUDA device it says so and exits 0. The steps alone (bank already on the
// device) are also timed as bandwidth: each step reads the bank once and reads and
// writes the min-distances, against the device's copy bandwidth measured by a
// LibTorch device-to-device copy of the same size (n/a with a CPU-only LibTorch).
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
  // The steps alone, as bandwidth.
  tc::sampling::GreedyDeviceBlock resident(data, rows, dim, 0);
  const auto only_steps = tc::bench::time_it([&] {
    for (int s = 0; s < steps; ++s) (void)resident.update(data + centres[s] * dim);
  });
  const double step_bytes = static_cast<double>(rows) * (static_cast<double>(dim) * 4 + 8);
  const double step_gbps = step_bytes * steps / only_steps.min_s / 1e9;
  double copy_gbps = 0;  // read + write of a bank-sized buffer on the device
  if (torch::cuda::is_available()) {
    const auto src = torch::empty({rows * dim + rows * 2},
                                  torch::TensorOptions(torch::kFloat32).device(torch::kCUDA, 0));
    auto dst = torch::empty_like(src);
    const auto copy = tc::bench::time_it([&] {
      for (int r = 0; r < 20; ++r) dst.copy_(src);
      torch::cuda::synchronize(0);
    });
    copy_gbps = 2.0 * static_cast<double>(src.numel()) * 4 * 20 / copy.min_s / 1e9;
  }
  tc::bench::CsvReport csv(
      "gpu/greedy_step",
      "rows,dim,steps,cpu_threads,cpu_min_s,gpu_min_s,speedup,wrong,gpu_step_us,step_GBps,"
      "copy_GBps,of_copy_bandwidth");
  char line[320];
  std::snprintf(line, sizeof line, "%lld,%lld,%d,%d,%.6f,%.6f,%.2f,%d,%.2f,%.1f,%s,%s",
                static_cast<long long>(rows), static_cast<long long>(dim), steps, threads,
                cpu.min_s, gpu.min_s, cpu.min_s / gpu.min_s, wrong, only_steps.min_s / steps * 1e6,
                step_gbps, copy_gbps > 0 ? std::to_string(copy_gbps).c_str() : "n/a",
                copy_gbps > 0 ? std::to_string(step_gbps / copy_gbps).c_str() : "n/a");
  csv.row(line);
  return wrong == 0 ? 0 : 1;
}
