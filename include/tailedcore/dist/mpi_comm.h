// MpiComm: Comm over MPI on host tensors.
#pragma once

#include <memory>

#include <mpi.h>

#include "tailedcore/dist/comm.h"

namespace tc::dist {

/// Wraps an MPI communicator (not freed by MpiComm when it is MPI_COMM_WORLD).
std::unique_ptr<Comm> make_mpi_comm(MPI_Comm comm);

/// Throws tc::Error with MPI's error string, the rank and the host when rc != MPI_SUCCESS.
void check_mpi(int rc, const char* call);

}  // namespace tc::dist
