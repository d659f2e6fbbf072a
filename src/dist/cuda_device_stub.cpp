// cuda_device.h in a build without CUDA.
#ifndef TAILEDCORE_WITH_CUDA

#include "tailedcore/core/check.h"
#include "tailedcore/dist/cuda_device.h"

namespace tc::dist {

std::string cuda_device_name(int) { return ""; }

long long cuda_free_bytes(int) { return 0; }

void release_cached_cuda_memory() {}

void set_cuda_device(int device) {
  TC_FAIL("cuda:", device,
          ": tailedcore was built without CUDA (configure with -DTAILEDCORE_WITH_CUDA=ON)");
}

}  // namespace tc::dist

#endif  // TAILEDCORE_WITH_CUDA
