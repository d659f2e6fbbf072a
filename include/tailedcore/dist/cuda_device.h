// The CUDA runtime's view of one device, for logs and for binding a rank to its
// GPU. Built with CUDA (src/dist/cuda/cuda_device.cpp) or as a stub without it.
#pragma once

#include <string>

namespace tc::dist {

/// The device's name ("NVIDIA H200"); "" without CUDA or for a bad ordinal. Never throws.
std::string cuda_device_name(int device);

/// Free memory on `device` as the CUDA runtime reports it (cudaMemGetInfo);
/// 0 without CUDA or for a bad ordinal. Never throws.
long long cuda_free_bytes(int device);

/// Hands LibTorch's cached, unused CUDA blocks back to the driver
/// (CUDACachingAllocator::emptyCache), between stages whose buffers are
/// large, so the next stage (or a raw cudaMalloc: the greedy's rows) finds
/// them. No-op with a CPU LibTorch or without CUDA.
void release_cached_cuda_memory();

/// Makes `device` this thread's current CUDA device (cudaSetDevice); throws
/// tc::Error with the runtime's message on failure, or in a build without CUDA.
void set_cuda_device(int device);

}  // namespace tc::dist
