// The machine's memory read bandwidth, measured in the benchmark's own run:
// the faster of two parallel sums over a 1 GiB buffer (ours, never compute
// bound, and LibTorch's), on the caller's OpenMP team.
#pragma once

#include <immintrin.h>
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "driver.h"

namespace tc::bench {

// Sums 4096 floats with eight independent 8-lane accumulators.
__attribute__((target("avx2"))) inline double sum_block(const float* p) {
  __m256 a[8];
  for (auto& v : a) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < 4096; i += 64)
    for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_loadu_ps(p + i + 8 * j));
  alignas(32) float lanes[8];
  double total = 0;
  for (auto& v : a) {
    _mm256_store_ps(lanes, v);
    for (float f : lanes) total += f;
  }
  return total;
}

/// Bytes per second.
inline double read_bandwidth(int reps) {
  const int64_t n = int64_t{256} << 20;  // floats
  std::vector<float> buf(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i & 1023);
  volatile double sink = 0;
  const auto t = time_it(
      [&] {
        double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
        for (int64_t b = 0; b < n; b += 4096) total += sum_block(buf.data() + b);
        sink = sink + total;
      },
      reps, 1);
  const auto tensor = torch::from_blob(buf.data(), {n}, torch::kFloat32);
  const auto tt = time_it([&] { sink = sink + tensor.sum().item<double>(); }, reps, 1);
  return n * 4.0 / std::min(t.min_s, tt.min_s);
}

}  // namespace tc::bench
