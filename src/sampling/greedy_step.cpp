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
// thread (ranges are multiples of 8 rows). The caller picks the team size
// (GreedyTeam: one thread when a loaded machine makes the team slower).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TC_GREEDY_X86 1
#endif

#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_team.h"

namespace tc::sampling {
namespace {

constexpr int kLanes = 8;
constexpr float kPruneFactor = 2.0f * (1.0f + 1e-3f);

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

__attribute__((target("avx2,fma"))) inline float distance_avx2(const float* r, const float* c, int64_t d) {
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
// for eight rows in one vector; sqrt, minimum and the max test are vectorised.
__attribute__((target("avx2,fma"))) int64_t rows8_avx2(const float* rows, int64_t begin,
                                                       int64_t end, int64_t d, const float* centre,
                                                       float* min_dist, BlockMax& best) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const float* r = rows + i * d;
    __m256 a[8];
    for (auto& v : a) v = _mm256_setzero_ps();
    for (int64_t k = 0; k < d; k += kLanes) {
      const __m256 c = _mm256_loadu_ps(centre + k);
      for (int j = 0; j < 8; ++j) {
        const __m256 x = _mm256_sub_ps(_mm256_loadu_ps(r + j * d + k), c);
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
    // min_ps(a, b) = a < b ? a : b, the scalar rule.
    const __m256 m = _mm256_min_ps(_mm256_sqrt_ps(s), _mm256_loadu_ps(min_dist + i));
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

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

// The rotated bound's partial sums: sum over k < n of (r[k * stride] - c[k])^2,
// in any order (the margin covers it); n a multiple of 4.
float partial_squared_distance(const float* r, int64_t stride, const float* c, int64_t n) {
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  for (int64_t k = 0; k < n; k += 4)
    for (int j = 0; j < 4; ++j) {
      const float x = r[(k + j) * stride] - c[k + j];
      acc[j] += x * x;
    }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

#ifdef TC_GREEDY_X86
static_assert(kRotatedGroup == 16, "the AVX2 group is two vectors");
__attribute__((target("avx2,fma"))) inline float squared_distance_group_avx2(const float* r, const float* c) {
  const __m256 x0 = _mm256_sub_ps(_mm256_loadu_ps(r), _mm256_loadu_ps(c));
  const __m256 x1 = _mm256_sub_ps(_mm256_loadu_ps(r + 8), _mm256_loadu_ps(c + 8));
  const __m256 a = _mm256_fmadd_ps(x1, x1, _mm256_mul_ps(x0, x0));
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}
#endif

inline float squared_distance_group(const float* r, const float* c) {
#ifdef TC_GREEDY_X86
  if (cpu_has_avx2_fma()) return squared_distance_group_avx2(r, c);
#endif
  return partial_squared_distance(r, 1, c, kRotatedGroup);
}

// Row i's squared difference over the first groups (RotatedRows::first).
float first_group_sum(const RotatedRows& r, int64_t i) {
  const int64_t coords = r.first_groups * kRotatedGroup;
  return partial_squared_distance(r.first + (i / 8) * coords * 8 + i % 8, 8, r.centre, coords);
}

#ifdef TC_GREEDY_X86
// Rows g..g+7 (g % 8 == 0): which pass both the centre bound and the first
// groups' partial sum (bit k: row g + k may come closer), branch-free; sums[k]
// gets row g + k's first-groups sum. The same tests as centre_pruned, limit_of
// and first_group_sum row by row, up to the order of the sums.
__attribute__((target("avx2,fma"))) int first_bounds_8_avx2(const RotatedRows& r, int64_t g,
                                                             const float* min_dist, const int32_t* assigned,
                                                             const float* centre_dist, float* sums) {
  const __m256 mind = _mm256_loadu_ps(min_dist + g);
  const __m256i who = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(assigned + g));
  const __m256 has = _mm256_castsi256_ps(_mm256_cmpgt_epi32(who, _mm256_set1_epi32(-1)));
  const __m256 cd = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), centre_dist, who, has, 4);
  const __m256 pruned =
      _mm256_and_ps(has, _mm256_cmp_ps(cd, _mm256_mul_ps(_mm256_set1_ps(kPruneFactor), mind), _CMP_GT_OQ));
  const __m256 reach = _mm256_add_ps(_mm256_mul_ps(mind, _mm256_set1_ps(1.0f + 1e-3f)), _mm256_set1_ps(r.abs_margin));
  const __m256 limit = _mm256_mul_ps(reach, reach);
  const int64_t coords = r.first_groups * kRotatedGroup;
  const float* block = r.first + (g / 8) * coords * 8;
  // Every coordinate of the first groups, with no early exit: a test and
  // branch per group cost more than the rest of the sums (measured).
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (int64_t j = 0; j < coords; j += 2) {
    const __m256 x0 = _mm256_sub_ps(_mm256_loadu_ps(block + j * 8), _mm256_set1_ps(r.centre[j]));
    const __m256 x1 = _mm256_sub_ps(_mm256_loadu_ps(block + (j + 1) * 8), _mm256_set1_ps(r.centre[j + 1]));
    a0 = _mm256_fmadd_ps(x0, x0, a0);
    a1 = _mm256_fmadd_ps(x1, x1, a1);
  }
  const __m256 sum = _mm256_add_ps(a0, a1);
  _mm256_storeu_ps(sums, sum);
  const __m256 out = _mm256_or_ps(pruned, _mm256_cmp_ps(sum, limit, _CMP_GT_OQ));
  return ~_mm256_movemask_ps(out) & 0xff;
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
template <typename Range>
BlockMax for_row_ranges(int64_t b, int64_t d, int threads, const Range& range) {
  BlockMax best{-std::numeric_limits<float>::infinity(), -1};
  if (threads <= 0) threads = omp_get_max_threads();
  if (b * d < GreedyTeam::kMinParallelWork || threads <= 1) {
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
  const BlockMax best = for_row_ranges(b, d, threads, [&](int64_t begin, int64_t end, BlockMax& local) {
    update_range(rows, begin, end, d, centre, min_dist, local);
  });
  return best.index >= 0 ? best : BlockMax{min_dist[0], 0};
}

BlockMax update_min_distances_pruned(const float* rows, int64_t b, int64_t d, const float* centre,
                                     float* min_dist, int32_t* assigned, const float* centre_dist,
                                     int32_t step, int threads, int64_t* rows_read, const RotatedRows* rotated) {
  if (b <= 0) return {-std::numeric_limits<float>::infinity(), -1};
  int64_t reads = 0;
  const BlockMax best = for_row_ranges(b, d, threads, [&](int64_t begin, int64_t end, BlockMax& local) {
    int64_t my_reads = 0;
    // Whether row i must be read: no centre yet, or the bound does not rule
    // it out. d(x, c) >= d(a, c) - d(x, a), so d(a, c) > 2 d(x, a) means the
    // new centre is farther than the old one; the margin covers float32
    // rounding (relative error ~1e-5 at d = 128) many times over.
    //
    // Then the rotated partial sums: the first j coordinates' squared
    // differences are at most the whole distance's square, so once they pass
    // (min_dist (1 + 1e-3) + abs_margin)^2 the row cannot come closer; the
    // relative margin covers float32 sums over 128 terms, abs_margin the
    // rounding of the rotated coordinates.
    const auto centre_pruned = [&](int64_t i) {
      return assigned[i] >= 0 && centre_dist[assigned[i]] > kPruneFactor * min_dist[i];
    };
    const auto limit_of = [&](int64_t i) {
      const float reach = min_dist[i] * (1.0f + 1e-3f) + rotated->abs_margin;
      return reach * reach;
    };
    const auto ruled_out_after_first = [&](int64_t i, float sum, float limit) {
      if (sum > limit) return true;
      const int64_t f = rotated->first_groups;
      for (int64_t g = f; g < rotated->groups; ++g) {
        sum += squared_distance_group(rotated->rest + ((g - f) * b + i) * kRotatedGroup,
                                      rotated->centre + g * kRotatedGroup);
        if (sum > limit) return true;
      }
      return false;
    };
    const auto must_read = [&](int64_t i) {
      if (centre_pruned(i)) return false;
      return !(rotated && ruled_out_after_first(i, first_group_sum(*rotated, i), limit_of(i)));
    };
    const auto read = [&](int64_t first, int64_t last) {
      my_reads += last - first;
      float before[8];
      for (int64_t i = first; i < last; ++i) before[i - first] = min_dist[i];
      update_range(rows, first, last, d, centre, min_dist, local);
      for (int64_t i = first; i < last; ++i)
        if (min_dist[i] < before[i - first]) assigned[i] = step;
    };
    for (int64_t g = begin; g < end; g += 8) {
      const int64_t stop = std::min(end, g + 8);
#ifdef TC_GREEDY_X86
      if (rotated && stop - g == 8 && cpu_has_avx2_fma()) {  // both first bounds for eight rows at once
        float sums[8];
        const int alive = first_bounds_8_avx2(*rotated, g, min_dist, assigned, centre_dist, sums);
        for (int64_t i = g; i < stop; ++i) {
          if (((alive >> (i - g)) & 1) && !ruled_out_after_first(i, sums[i - g], limit_of(i))) read(i, i + 1);
          else take(min_dist[i], i, local);
        }
        continue;
      }
#endif
      bool all = true;
      for (int64_t i = g; i < stop; ++i) all = all && must_read(i);
      if (all) {  // the 8-row kernel, as unpruned
        read(g, stop);
        continue;
      }
      for (int64_t i = g; i < stop; ++i) {  // in row order: the first of equal maxima
        if (must_read(i)) read(i, i + 1);
        else take(min_dist[i], i, local);
      }
    }
#pragma omp atomic
    reads += my_reads;
  });
  if (rows_read) *rows_read = reads;
  return best.index >= 0 ? best : BlockMax{min_dist[0], 0};
}

void centre_distances(const float* centres, int64_t count, int64_t d, const float* centre, float* out) {
#ifdef TC_GREEDY_X86
  if (cpu_has_avx2_fma()) {  // a late step measures thousands of centres
    for (int64_t j = 0; j < count; ++j) out[j] = distance_avx2(centres + j * d, centre, d);
    return;
  }
#endif
  for (int64_t j = 0; j < count; ++j) out[j] = distance_portable(centres + j * d, centre, d);
}

}  // namespace tc::sampling
