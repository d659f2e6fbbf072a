// One greedy k-center step on a block of rows (greedy_kernel.h).
//
// Exactness: the reference computes torch.norm(P - P[last], dim=1) in float32.
// LibTorch 1.13 on CPU (AVX2 dispatch) reduces a contiguous last dim with 8
// lane accumulators: lane j sums the squared differences j, j+8, j+16, ... by
// fused multiply-add, the lanes are then added left to right, the d % 8 tail
// elements are fused-added after them, and the square root is taken in float.
// We sum in exactly that order, so every distance is bit-identical to
// torch::norm on such a CPU (a unit test checks it) and the selection sequence
// equals the straightforward LibTorch loop. Other orders (a GPU, AVX-512
// kernels) round differently in the last bit, which can only matter when two
// candidates' distances tie to within an ulp.
//
// Speed: the step is bound by memory bandwidth. One pass over the rows fuses
// distance, running minimum and arg-max; eight rows share each centre load
// (eight independent FMA chains) and their lane sums are done in one vector
// after a transpose; OpenMP splits the rows into one contiguous range per
// thread (ranges are multiples of 8 rows). The caller picks the team size.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TC_GREEDY_X86 1
#endif

#include "tailedcore/sampling/greedy_kernel.h"

namespace tc::sampling {
namespace {

constexpr int kLanes = 8;

// Portable path, same order as the AVX2 one (std::fma is exact fused).
float distance_portable(const float* r, const float* c, int64_t d) {
  float acc[kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int64_t k = 0;
  for (; k + kLanes <= d; k += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float x = r[k + j] - c[k + j];
      acc[j] = std::fma(x, x, acc[j]);
    }
  float s = acc[0];
  for (int j = 1; j < kLanes; ++j) s = s + acc[j];
  for (; k < d; ++k) {
    const float x = r[k] - c[k];
    s = std::fma(x, x, s);
  }
  return std::sqrt(s);
}

// Keeps the first of equal maxima: rows are visited in increasing order.
inline void take(float m, int64_t i, BlockMax& best) {
  if (m > best.value) best = {m, i};
}

void rows_portable(const float* rows, int64_t begin, int64_t end, int64_t d, const float* centre,
                   float* min_dist, BlockMax& best) {
  for (int64_t i = begin; i < end; ++i) {
    const float dist = distance_portable(rows + i * d, centre, d);
    const float m = dist < min_dist[i] ? dist : min_dist[i];
    min_dist[i] = m;
    take(m, i, best);
  }
}

#ifdef TC_GREEDY_X86
__attribute__((target("avx2,fma"))) inline float finish_avx2(__m256 acc, const float* r,
                                                             const float* c, int64_t k, int64_t d) {
  alignas(32) float lanes[kLanes];
  _mm256_store_ps(lanes, acc);
  float s = lanes[0];
  for (int j = 1; j < kLanes; ++j) s = s + lanes[j];
  for (; k < d; ++k) {
    const float x = r[k] - c[k];
    s = __builtin_fmaf(x, x, s);
  }
  return std::sqrt(s);
}

__attribute__((target("avx2,fma"))) inline float distance_avx2(const float* r, const float* c,
                                                               int64_t d) {
  const int64_t dv = d - d % kLanes;
  __m256 a = _mm256_setzero_ps();
  for (int64_t k = 0; k < dv; k += kLanes) {
    const __m256 x = _mm256_sub_ps(_mm256_loadu_ps(r + k), _mm256_loadu_ps(c + k));
    a = _mm256_fmadd_ps(x, x, a);
  }
  return finish_avx2(a, r, c, dv, d);
}

// Eight rows at once when d % 8 == 0: eight independent FMA chains, then an
// 8 x 8 transpose so that out[j] holds lane j of every row and the lane sum
// out[0] + out[1] + ... + out[7] is the reference's left-to-right order, done
// for eight rows in one vector, then the square roots.
__attribute__((target("avx2,fma"))) inline __m256 distances8_avx2(const float* const r[8],
                                                                  int64_t d, const float* centre) {
  __m256 a[8];
  for (auto& v : a) v = _mm256_setzero_ps();
  for (int64_t k = 0; k < d; k += kLanes) {
    const __m256 c = _mm256_loadu_ps(centre + k);
    for (int j = 0; j < 8; ++j) {
      const __m256 x = _mm256_sub_ps(_mm256_loadu_ps(r[j] + k), c);
      a[j] = _mm256_fmadd_ps(x, x, a[j]);
    }
  }
  const __m256 t0 = _mm256_unpacklo_ps(a[0], a[1]), t1 = _mm256_unpackhi_ps(a[0], a[1]);
  const __m256 t2 = _mm256_unpacklo_ps(a[2], a[3]), t3 = _mm256_unpackhi_ps(a[2], a[3]);
  const __m256 t4 = _mm256_unpacklo_ps(a[4], a[5]), t5 = _mm256_unpackhi_ps(a[4], a[5]);
  const __m256 t6 = _mm256_unpacklo_ps(a[6], a[7]), t7 = _mm256_unpackhi_ps(a[6], a[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s = _mm256_permute2f128_ps(u0, u4, 0x20);             // lane 0 of each row
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u1, u5, 0x20));  // + lane 1
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u2, u6, 0x20));
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u3, u7, 0x20));
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u0, u4, 0x31));
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u1, u5, 0x31));
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u2, u6, 0x31));
  s = _mm256_add_ps(s, _mm256_permute2f128_ps(u3, u7, 0x31));  // + lane 7
  return _mm256_sqrt_ps(s);
}

// Contiguous rows eight at a time (d % 8 == 0); sqrt, minimum and the max
// test are vectorised.
__attribute__((target("avx2,fma"))) int64_t rows8_avx2(const float* rows, int64_t begin,
                                                       int64_t end, int64_t d, const float* centre,
                                                       float* min_dist, BlockMax& best) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const float* r[8];
    for (int j = 0; j < 8; ++j) r[j] = rows + (i + j) * d;
    // min_ps(a, b) = a < b ? a : b, the scalar rule.
    const __m256 m = _mm256_min_ps(distances8_avx2(r, d, centre), _mm256_loadu_ps(min_dist + i));
    _mm256_storeu_ps(min_dist + i, m);
    if (_mm256_movemask_ps(_mm256_cmp_ps(m, _mm256_set1_ps(best.value), _CMP_GT_OQ)) != 0)
      for (int j = 0; j < 8; ++j) take(min_dist[i + j], i + j, best);
  }
  return i;
}

__attribute__((target("avx2,fma"))) void rows_avx2(const float* rows, int64_t begin, int64_t end,
                                                   int64_t d, const float* centre, float* min_dist,
                                                   BlockMax& best) {
  const int64_t dv = d - d % kLanes;
  int64_t i = d % kLanes == 0 ? rows8_avx2(rows, begin, end, d, centre, min_dist, best) : begin;
  for (; i + 4 <= end; i += 4) {
    const float* r0 = rows + i * d;
    const float* r1 = r0 + d;
    const float* r2 = r1 + d;
    const float* r3 = r2 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t k = 0; k < dv; k += kLanes) {
      const __m256 c = _mm256_loadu_ps(centre + k);
      const __m256 x0 = _mm256_sub_ps(_mm256_loadu_ps(r0 + k), c);
      const __m256 x1 = _mm256_sub_ps(_mm256_loadu_ps(r1 + k), c);
      const __m256 x2 = _mm256_sub_ps(_mm256_loadu_ps(r2 + k), c);
      const __m256 x3 = _mm256_sub_ps(_mm256_loadu_ps(r3 + k), c);
      a0 = _mm256_fmadd_ps(x0, x0, a0);
      a1 = _mm256_fmadd_ps(x1, x1, a1);
      a2 = _mm256_fmadd_ps(x2, x2, a2);
      a3 = _mm256_fmadd_ps(x3, x3, a3);
    }
    const float dist[4] = {finish_avx2(a0, r0, centre, dv, d), finish_avx2(a1, r1, centre, dv, d),
                           finish_avx2(a2, r2, centre, dv, d), finish_avx2(a3, r3, centre, dv, d)};
    for (int j = 0; j < 4; ++j) {
      const float m = dist[j] < min_dist[i + j] ? dist[j] : min_dist[i + j];
      min_dist[i + j] = m;
      take(m, i + j, best);
    }
  }
  for (; i < end; ++i) {
    const float dist = distance_avx2(rows + i * d, centre, d);
    const float m = dist < min_dist[i] ? dist : min_dist[i];
    min_dist[i] = m;
    take(m, i, best);
  }
}

// Listed rows, eight at a time when d % 8 == 0.
__attribute__((target("avx2,fma"))) void listed_avx2(const float* rows, int64_t d,
                                                     const int32_t* idx, int64_t n,
                                                     const float* centre, float* out) {
  // Listed rows lie anywhere in the block: each group of eight asks for the
  // next group's lines first, so their memory latency overlaps the arithmetic.
  const auto prefetch = [&](int64_t from) {
    for (int64_t j = from; j < std::min(n, from + 8); ++j) {
      const char* r = reinterpret_cast<const char*>(rows + static_cast<int64_t>(idx[j]) * d);
      for (int64_t b = 0; b < d * 4; b += 64) _mm_prefetch(r + b, _MM_HINT_T0);
    }
  };
  int64_t i = 0;
  prefetch(0);
  if (d % kLanes == 0)
    for (; i + 8 <= n; i += 8) {
      prefetch(i + 8);
      const float* r[8];
      for (int j = 0; j < 8; ++j) r[j] = rows + static_cast<int64_t>(idx[i + j]) * d;
      _mm256_storeu_ps(out + i, distances8_avx2(r, d, centre));
    }
  for (; i < n; ++i) out[i] = distance_avx2(rows + static_cast<int64_t>(idx[i]) * d, centre, d);
}

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

void update_range(const float* rows, int64_t begin, int64_t end, int64_t d, const float* centre,
                  float* min_dist, BlockMax& best) {
#ifdef TC_GREEDY_X86
  if (cpu_has_avx2_fma()) return rows_avx2(rows, begin, end, d, centre, min_dist, best);
#endif
  rows_portable(rows, begin, end, d, centre, min_dist, best);
}

// Rows [0, b) in contiguous ranges, one per thread (multiples of 8 rows),
// each range's maximum merged into the first of equals; on the calling
// thread alone when the block is too small to wake a team.
// Less work than this (rows x dim) runs on the calling thread: waking a team
// costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t{1} << 16;

template <typename Range>
BlockMax for_row_ranges(int64_t b, int64_t d, int threads, const Range& range) {
  BlockMax best{-std::numeric_limits<float>::infinity(), -1};
  if (threads <= 0) threads = omp_get_max_threads();
  if (b * d < kMinParallelWork || threads <= 1) {
    range(int64_t{0}, b, best);
    return best;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t per = ((b + nt - 1) / nt + 7) / 8 * 8;
    const int64_t begin = std::min(b, t * per), end = std::min(b, begin + per);
    BlockMax local{-std::numeric_limits<float>::infinity(), -1};
    range(begin, end, local);
#pragma omp critical(tc_greedy_merge)
    {
      if (local.index >= 0 && (best.index < 0 || local.value > best.value ||
                               (local.value == best.value && local.index < best.index)))
        best = local;
    }
  }
  return best;
}

}  // namespace

BlockMax update_min_distances_torch_order(const float* rows, int64_t b, int64_t d,
                                          const float* centre, float* min_dist, int threads) {
  if (b <= 0) return {-std::numeric_limits<float>::infinity(), -1};
  const BlockMax best =
      for_row_ranges(b, d, threads, [&](int64_t begin, int64_t end, BlockMax& local) {
        update_range(rows, begin, end, d, centre, min_dist, local);
      });
  return best.index >= 0 ? best : BlockMax{min_dist[0], 0};
}

void distances_torch_order(const float* rows, int64_t d, const int32_t* idx, int64_t n,
                           const float* centre, float* out) {
#ifdef TC_GREEDY_X86
  if (cpu_has_avx2_fma()) return listed_avx2(rows, d, idx, n, centre, out);
#endif
  for (int64_t i = 0; i < n; ++i)
    out[i] = distance_portable(rows + static_cast<int64_t>(idx[i]) * d, centre, d);
}

float distance_torch_order(const float* a, const float* b, int64_t d) {
#ifdef TC_GREEDY_X86
  if (cpu_has_avx2_fma()) return distance_avx2(a, b, d);
#endif
  return distance_portable(a, b, d);
}

}  // namespace tc::sampling
