// The greedy coreset step on a GPU: one warp per row computes ||row - centre||,
// folds it into the running minimum, and keeps its best (value, row); blocks
// reduce their warps, a second one-block kernel reduces the blocks and packs
// the winner (value, global index, row) for the fused pick. Two launches a
// step on LibTorch's default stream, no host wait. The step is bound by
// reading the bank once, as on the CPU.
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/cuda_check.h"
#include "tailedcore/sampling/greedy_device.h"

namespace tc::sampling {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxBlocks = 1024;

struct Best {
  float value;
  long long index;  // -1: none
};

// The CPU rule: larger value wins, equal values go to the lower index; a NaN
// minimum is never a candidate (the CPU's `m > best` is false for NaN).
__device__ __forceinline__ Best better(Best a, Best b) {
  if (a.index < 0) return b;
  if (b.index < 0) return a;
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
  return a;
}

__device__ __forceinline__ Best shuffle_best(Best b, int offset) {
  Best o;
  o.value = __shfl_down_sync(0xffffffffu, b.value, offset);
  o.index = __shfl_down_sync(0xffffffffu, b.index, offset);
  return o;
}

__device__ Best block_reduce(Best mine, Best* shared) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int off = 16; off > 0; off /= 2) mine = better(mine, shuffle_best(mine, off));
  if (lane == 0) shared[warp] = mine;
  __syncthreads();
  if (warp == 0) {
    mine = lane < kWarps ? shared[lane] : Best{0.f, -1};
    for (int off = 16; off > 0; off /= 2) mine = better(mine, shuffle_best(mine, off));
  }
  return mine;  // valid in thread 0
}

__global__ void update_kernel(const float* __restrict__ rows, long long b, long long d,
                              const float* __restrict__ centre, float* __restrict__ min_dist,
                              Best* __restrict__ partial) {
  __shared__ Best shared[kWarps];
  const int lane = threadIdx.x % 32;
  const long long warp_global =
      (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const long long warp_count = static_cast<long long>(gridDim.x) * blockDim.x / 32;
  Best mine{0.f, -1};
  for (long long i = warp_global; i < b; i += warp_count) {
    const float* r = rows + i * d;
    float acc = 0.f;
    for (long long k = lane; k < d; k += 32) {
      const float diff = r[k] - centre[k];
      acc += diff * diff;
    }
    for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (lane == 0) {
      const float dist = sqrtf(acc);
      const float old = min_dist[i];
      const float m = dist < old ? dist : old;
      min_dist[i] = m;
      if (!isnan(m)) mine = better(mine, Best{m, i});
    }
  }
  const Best best = block_reduce(mine, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = best;
}

// The blocks' winner as dist::pack_candidate lays it out: value (float64),
// begin + row (int64), the row's words; no candidate: -inf, INT64_MAX, zeros.
__global__ void reduce_pack_kernel(const Best* __restrict__ partial, int n,
                                   const float* __restrict__ rows, long long d, long long begin,
                                   int* __restrict__ packed) {
  __shared__ Best shared[kWarps];
  __shared__ Best winner;
  Best mine{0.f, -1};
  for (int i = threadIdx.x; i < n; i += blockDim.x) mine = better(mine, partial[i]);
  const Best best = block_reduce(mine, shared);
  if (threadIdx.x == 0) {
    winner = best;
    const double value = best.index < 0 ? -INFINITY : static_cast<double>(best.value);
    const long long index = best.index < 0 ? LLONG_MAX : begin + best.index;
    reinterpret_cast<double*>(packed)[0] = value;
    reinterpret_cast<long long*>(packed)[1] = index;
  }
  __syncthreads();
  const Best w = winner;
  for (long long k = threadIdx.x; k < d; k += blockDim.x)
    packed[4 + k] = w.index < 0 ? 0 : __float_as_int(rows[w.index * d + k]);
}

__global__ void fill_kernel(float* p, long long n, float v) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) p[i] = v;
}

}  // namespace

struct GreedyDeviceBlock::Impl {
  int device = 0;
  int64_t b = 0, d = 0;
  int blocks = 1;
  float* rows = nullptr;
  float* centre = nullptr;  // update()'s upload
  float* min_dist = nullptr;
  Best* partial = nullptr;
  int* packed = nullptr;  // update()'s candidate, [4 + d] words
  // LibTorch's default stream: ordered with the collectives and tensor
  // operations between steps (NcclComm queues there too).
  cudaStream_t stream = nullptr;

  ~Impl() {
    cudaSetDevice(device);
    cudaStreamSynchronize(stream);
    for (void* p :
         {static_cast<void*>(rows), static_cast<void*>(centre), static_cast<void*>(min_dist),
          static_cast<void*>(partial), static_cast<void*>(packed)})
      if (p) cudaFree(p);
  }
};

GreedyDeviceBlock::GreedyDeviceBlock(const float* rows, int64_t b, int64_t d, int device)
    : impl_(std::make_unique<Impl>()) {
  TC_CHECK(b >= 0 && d >= 1, "greedy coreset on cuda:", device, ": block of ", b, " rows x ", d,
           " dims: expected rows >= 0 and dims >= 1");
  auto& s = *impl_;
  s.device = device;
  s.b = b;
  s.d = d;
  // Enough warps to cover the rows, at most kMaxBlocks blocks (grid-stride beyond).
  const int64_t warps_needed = b > 0 ? b : 1;
  s.blocks = static_cast<int>(std::min<int64_t>(kMaxBlocks, (warps_needed + kWarps - 1) / kWarps));
  TC_CUDA_CHECK(cudaSetDevice(device));
  const size_t row_bytes = static_cast<size_t>(b) * d * sizeof(float);
  TC_CUDA_CHECK(cudaMalloc(&s.rows, row_bytes > 0 ? row_bytes : 1));
  TC_CUDA_CHECK(cudaMalloc(&s.centre, d * sizeof(float)));
  TC_CUDA_CHECK(cudaMalloc(&s.min_dist, (b > 0 ? b : 1) * sizeof(float)));
  TC_CUDA_CHECK(cudaMalloc(&s.partial, s.blocks * sizeof(Best)));
  TC_CUDA_CHECK(cudaMalloc(&s.packed, (4 + d) * sizeof(int)));
  if (row_bytes > 0)
    TC_CUDA_CHECK(cudaMemcpyAsync(s.rows, rows, row_bytes, cudaMemcpyHostToDevice, s.stream));
  if (b > 0) {
    fill_kernel<<<static_cast<unsigned>((b + kThreads - 1) / kThreads), kThreads, 0, s.stream>>>(
        s.min_dist, b, std::numeric_limits<float>::infinity());
    TC_CUDA_CHECK(cudaGetLastError());
  }
  TC_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

GreedyDeviceBlock::~GreedyDeviceBlock() = default;

void GreedyDeviceBlock::update_packed(const float* centre, int64_t begin, int32_t* packed) {
  auto& s = *impl_;
  TC_CUDA_CHECK(cudaSetDevice(s.device));
  if (s.b > 0) {
    update_kernel<<<s.blocks, kThreads, 0, s.stream>>>(s.rows, s.b, s.d, centre, s.min_dist,
                                                       s.partial);
    TC_CUDA_CHECK(cudaGetLastError());
  }
  reduce_pack_kernel<<<1, kThreads, 0, s.stream>>>(s.partial, s.b > 0 ? s.blocks : 0, s.rows, s.d,
                                                   begin, reinterpret_cast<int*>(packed));
  TC_CUDA_CHECK(cudaGetLastError());
}

DeviceBlockMax GreedyDeviceBlock::update(const float* centre) {
  auto& s = *impl_;
  if (s.b == 0) return {-std::numeric_limits<float>::infinity(), -1};
  TC_CUDA_CHECK(cudaSetDevice(s.device));
  TC_CUDA_CHECK(
      cudaMemcpyAsync(s.centre, centre, s.d * sizeof(float), cudaMemcpyHostToDevice, s.stream));
  update_packed(s.centre, 0, reinterpret_cast<int32_t*>(s.packed));
  int32_t head[4];
  TC_CUDA_CHECK(cudaMemcpyAsync(head, s.packed, sizeof head, cudaMemcpyDeviceToHost, s.stream));
  TC_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  double value;
  long long index;
  std::memcpy(&value, head, sizeof value);
  std::memcpy(&index, head + 2, sizeof index);
  if (index == LLONG_MAX) return {-std::numeric_limits<float>::infinity(), -1};
  return {static_cast<float>(value), static_cast<int64_t>(index)};
}

void GreedyDeviceBlock::min_distances(float* out) const {
  const auto& s = *impl_;
  if (s.b == 0) return;
  TC_CUDA_CHECK(cudaSetDevice(s.device));
  TC_CUDA_CHECK(
      cudaMemcpyAsync(out, s.min_dist, s.b * sizeof(float), cudaMemcpyDeviceToHost, s.stream));
  TC_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

int64_t GreedyDeviceBlock::rows() const { return impl_->b; }
int64_t GreedyDeviceBlock::dim() const { return impl_->d; }

}  // namespace tc::sampling
