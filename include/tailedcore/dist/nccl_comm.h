// NcclComm: Comm over NCCL, one GPU per rank (DESIGN.md "Distribution").
//
// Contract: as Comm. Built only with CUDA + NCCL (TAILEDCORE_WITH_CUDA); in a
// build without them make_nccl_comm throws "built without CUDA/NCCL".
//
// CUDA tensors on `device` are used in place: the collective is queued on
// LibTorch's default stream and the call returns without waiting for it, so
// a chain of kernels and collectives (the device greedy step) never stops
// the host. The host waits only where a result must reach it: allgatherv's
// and alltoallv's row counts (one small exchange each), host tensors and
// max_loc. Broadcast of a CUDA tensor takes root's shape on every rank.
//
// Host tensors are staged through device memory allocated for the call
// (stream-ordered) and freed before it returns: between collectives the
// communicator holds no memory beyond NCCL's own. Host staging is meant for
// control messages (counts, flags); bulk data belongs in CUDA tensors.
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
