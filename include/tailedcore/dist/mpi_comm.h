// MpiComm: Comm over MPI on host tensors. CUDA tensors are copied to the host
// and their results back to the device (correct, not fast: for ranks that
// share a GPU, where NCCL refuses to run; NcclComm is the way between GPUs).
//
// Counts are 64-bit: MPI's counts and displacements are `int`, so a transfer
// longer than MpiOptions::max_message_elements goes as several calls of at
// most that many elements (any tensor the host can hold moves, and the result
// is the same as one call's).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <limits>
#include <memory>

#include "tailedcore/dist/comm.h"

namespace tc::dist {

struct MpiOptions {
  /// The most elements one MPI call carries. The default is MPI's own limit
  /// (INT_MAX). A testing knob: a small value (e.g. 7) sends even tiny tensors
  /// through the chunked path, which must give the same results.
  int64_t max_message_elements = std::numeric_limits<int>::max();
};

/// Wraps an MPI communicator (not freed by MpiComm when it is MPI_COMM_WORLD).
/// Communicators made by split() inherit `opts`.
std::unique_ptr<Comm> make_mpi_comm(MPI_Comm comm, const MpiOptions& opts = {});

/// Throws tc::Error with MPI's error string, the rank and the host when rc != MPI_SUCCESS.
void check_mpi(int rc, const char* call);

}  // namespace tc::dist
