// NcclComm: Comm over NCCL, one GPU per rank (DESIGN.md "Distribution").
//
// Contract: as Comm. Built only with CUDA + NCCL (TAILEDCORE_WITH_CUDA); in a
// build without them make_nccl_comm throws "built without CUDA/NCCL".
// Tensors: CUDA tensors on `device` are used in place; host tensors are staged
// through device buffers and come back as host tensors (so the collectives
// also work, and are tested, with a CPU-only LibTorch on a GPU machine).
// Every collective runs on the communicator's own CUDA stream and waits for it
// before returning: buffers handed in may be reused as soon as the call returns.
// Ordering with LibTorch's kernels relies on those running on the legacy
// default stream (LibTorch's default), which synchronises with our stream.
#pragma once

#include <memory>

#include "tailedcore/dist/comm.h"

namespace tc::dist {

/// Collective over `bootstrap` (an MpiComm, or SelfComm for one rank): rank 0
/// makes the ncclUniqueId and broadcasts it; every rank binds `device` (a CUDA
/// ordinal, usually dist::this_rank_device(), local_rank.h). The result has
/// the bootstrap's rank and size and does not keep a reference to it.
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device);

/// CUDA devices visible to this process; 0 without CUDA or without a device.
/// Never throws.
int cuda_device_count();

/// True when this build has CUDA and NCCL.
bool built_with_cuda();

}  // namespace tc::dist
