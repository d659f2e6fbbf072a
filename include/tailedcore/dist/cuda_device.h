// The CUDA runtime's view of one device, for logs and for binding a rank to its
// GPU. Built with CUDA (src/dist/cuda/cuda_device.cpp) or as a stub without it.
#pragma once

#include <string>

namespace tc::dist {

/// The device's name ("NVIDIA H200"); "" without CUDA or for a bad ordinal. Never throws.
std::string cuda_device_name(int device);

/// Makes `device` this thread's current CUDA device (cudaSetDevice); throws
/// tc::Error with the runtime's message on failure, or in a build without CUDA.
void set_cuda_device(int device);

}  // namespace tc::dist
