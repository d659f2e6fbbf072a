#include "tailedcore/dist/cuda_check.h"

#include <string>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/nccl_comm.h"

namespace tc::dist {

void check_cuda(cudaError_t rc, const char* call) {
  if (rc == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call does not report it again
  TC_FAIL(call, " failed on rank ", core::log_rank(), " (", core::host_name(),
          "): ", cudaGetErrorString(rc));
}

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

bool built_with_cuda() { return true; }

}  // namespace tc::dist
