// The greedy coreset step on a GPU: one warp per row computes ||row - centre||,
// folds it into the running minimum, and keeps its best (value, row); blocks
// reduce their warps, a second one-block kernel reduces the blocks. The step is
// bound by reading the bank once, as on the CPU.
#include <cuda_runtime.h>

#include <cmath>
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

__global__ void reduce_kernel(const Best* __restrict__ partial, int n, Best* __restrict__ out) {
  __shared__ Best shared[kWarps];
  Best mine{0.f, -1};
  for (int i = threadIdx.x; i < n; i += blockDim.x) mine = better(mine, partial[i]);
  const Best best = block_reduce(mine, shared);
  if (threadIdx.x == 0) *out = best;
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
  float* centre = nullptr;
  float* min_dist = nullptr;
  Best* partial = nullptr;
  Best* result = nullptr;  // device; 16 bytes copied back per step
  cudaStream_t stream = nullptr;

  ~Impl() {
    cudaSetDevice(device);
    for (void* p :
         {static_cast<void*>(rows), static_cast<void*>(centre), static_cast<void*>(min_dist),
          static_cast<void*>(partial), static_cast<void*>(result)})
      if (p) cudaFree(p);
    if (stream) cudaStreamDestroy(stream);
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
  TC_CUDA_CHECK(cudaStreamCreate(&s.stream));
  const size_t row_bytes = static_cast<size_t>(b) * d * sizeof(float);
  TC_CUDA_CHECK(cudaMalloc(&s.rows, row_bytes > 0 ? row_bytes : 1));
  TC_CUDA_CHECK(cudaMalloc(&s.centre, d * sizeof(float)));
  TC_CUDA_CHECK(cudaMalloc(&s.min_dist, (b > 0 ? b : 1) * sizeof(float)));
  TC_CUDA_CHECK(cudaMalloc(&s.partial, s.blocks * sizeof(Best)));
  TC_CUDA_CHECK(cudaMalloc(&s.result, sizeof(Best)));
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

DeviceBlockMax GreedyDeviceBlock::update(const float* centre) {
  auto& s = *impl_;
  if (s.b == 0) return {-std::numeric_limits<float>::infinity(), -1};
  TC_CUDA_CHECK(cudaSetDevice(s.device));
  TC_CUDA_CHECK(
      cudaMemcpyAsync(s.centre, centre, s.d * sizeof(float), cudaMemcpyHostToDevice, s.stream));
  update_kernel<<<s.blocks, kThreads, 0, s.stream>>>(s.rows, s.b, s.d, s.centre, s.min_dist,
                                                     s.partial);
  TC_CUDA_CHECK(cudaGetLastError());
  reduce_kernel<<<1, kThreads, 0, s.stream>>>(s.partial, s.blocks, s.result);
  TC_CUDA_CHECK(cudaGetLastError());
  Best best{0.f, -1};
  TC_CUDA_CHECK(cudaMemcpyAsync(&best, s.result, sizeof best, cudaMemcpyDeviceToHost, s.stream));
  TC_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  if (best.index < 0) return {-std::numeric_limits<float>::infinity(), -1};
  return {best.value, static_cast<int64_t>(best.index)};
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
