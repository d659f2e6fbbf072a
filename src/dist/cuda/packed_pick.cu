// The multi-rank greedy's fused pick on the GPU: after the all-gather of the
// ranks' packed candidates, one one-block kernel chooses the winner by the
// shared rule (max_loc_pick.h) and copies its words, where tensor operations
// took ~17 launches a step.
#include <cuda_runtime.h>

#include "../max_loc_pick.h"
#include "tailedcore/dist/cuda_check.h"

namespace tc::dist::detail {
namespace {

constexpr int kThreads = 256;

__global__ void pick_packed_kernel(const int32_t* __restrict__ all, int n, long long words,
                                   int32_t* __restrict__ out) {
  __shared__ int winner;
  if (threadIdx.x == 0) winner = winner_of_packed(all, n, words);
  __syncthreads();
  const int32_t* src = all + winner * words;
  for (long long w = threadIdx.x; w < words; w += blockDim.x) out[w] = src[w];
}

}  // namespace

void pick_packed_on_device(const int32_t* all, int n, int64_t words, int32_t* out) {
  pick_packed_kernel<<<1, kThreads, 0, nullptr>>>(all, n, words, out);
  TC_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tc::dist::detail
