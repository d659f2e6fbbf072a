#include "tailedcore/dist/cuda_device.h"

#include <cuda_runtime_api.h>

#ifdef TC_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "tailedcore/dist/cuda_check.h"

namespace tc::dist {

std::string cuda_device_name(int device) {
  cudaDeviceProp prop{};
  if (device < 0 || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();  // clear it: a later check must not see this one
    return "";
  }
  return prop.name;
}

long long cuda_free_bytes(int device) {
  int current = 0;
  size_t free = 0, total = 0;
  if (device < 0 || cudaGetDevice(&current) != cudaSuccess ||
      cudaSetDevice(device) != cudaSuccess || cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  cudaSetDevice(current);
  return static_cast<long long>(free);
}

void release_cached_cuda_memory() {
#ifdef TC_TORCH_CUDA
  c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

void set_cuda_device(int device) { TC_CUDA_CHECK(cudaSetDevice(device)); }

}  // namespace tc::dist
