// test_mpi_abort: the failure policy end to end. Under mpirun, rank
// --fail-rank throws while the other ranks already wait in a collective;
// run_guarded must end the whole job promptly, non-zero, with that rank's
// message (tests/mpi/expect_abort.sh checks all three). --fail-rank -1: no
// rank fails and the job exits 0 (the control).
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/world.h"

int main(int argc, char** argv) {
  int fail_rank = 1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--fail-rank") == 0) fail_rank = std::atoi(argv[i + 1]);
  auto world = tc::dist::init_world(&argc, &argv);
  return tc::dist::run_guarded(*world, [&] {
    world->barrier();
    if (world->rank() == fail_rank) {
      // Let the others enter the allreduce first: the hang this guards against.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      TC_FAIL("selftest: rank ", fail_rank, " fails on purpose");
    }
    auto sum = world->allreduce(torch::ones({4}), tc::dist::ReduceOp::kSum);
    world->barrier();
    return sum[0].item<float>() == static_cast<float>(world->size()) ? 0 : 2;
  });
}
