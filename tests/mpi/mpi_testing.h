// The MPI suite: one binary run under mpirun with 1, 2 and 3 ranks. Every
// test computes on the world communicator and compares with the one-process
// (SelfComm) result, which each rank computes itself.
#pragma once

#include <filesystem>
#include <string>

#include "tailedcore/dist/comm.h"

namespace tc::testing {

dist::Comm& world();

/// A folder shared by all ranks (made by rank 0, named by the job), removed at exit.
std::filesystem::path shared_temp_dir(const std::string& name);

}  // namespace tc::testing
