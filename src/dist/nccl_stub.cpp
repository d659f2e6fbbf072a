// make_nccl_comm in a build without CUDA/NCCL: the factory exists, and says why it cannot work.
#ifndef TAILEDCORE_WITH_CUDA

#include "tailedcore/core/check.h"
#include "tailedcore/dist/nccl_comm.h"

namespace tc::dist {

std::unique_ptr<Comm> make_nccl_comm(Comm&, int device) {
  TC_FAIL("NcclComm on cuda:", device,
          ": tailedcore was built without CUDA/NCCL (configure with -DTAILEDCORE_WITH_CUDA=ON)");
}

int cuda_device_count() { return 0; }

bool built_with_cuda() { return false; }

}  // namespace tc::dist

#endif  // TAILEDCORE_WITH_CUDA
