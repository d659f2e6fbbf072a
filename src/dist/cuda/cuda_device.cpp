#include "tailedcore/dist/cuda_device.h"

#include <cuda_runtime_api.h>

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

void set_cuda_device(int device) { TC_CUDA_CHECK(cudaSetDevice(device)); }

}  // namespace tc::dist
