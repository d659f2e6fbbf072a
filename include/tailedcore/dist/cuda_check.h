// The check helper for the CUDA runtime API (STYLE 5; NCCL has its own in nccl_comm.cpp). Include
// only from CUDA sources (src/<module>/cuda/): it needs the CUDA headers.
#pragma once

#include <cuda_runtime_api.h>

namespace tc::dist {

/// Throws tc::Error "<call> failed on rank R (host): <cudaGetErrorString>" unless rc is
/// cudaSuccess.
void check_cuda(cudaError_t rc, const char* call);

}  // namespace tc::dist

#define TC_CUDA_CHECK(call) ::tc::dist::check_cuda((call), #call)
