// GoogleTest main for the MPI suite: MPI set up through dist::init_world;
// only rank 0 prints, but a failure on any rank fails the process (and so the
// CTest entry mpi_npN).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "mpi_testing.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/world.h"

namespace tc::testing {

static std::shared_ptr<dist::Comm> g_world;

dist::Comm& world() { return *g_world; }

std::filesystem::path shared_temp_dir(const std::string& name) {
  const char* job = std::getenv("OMPI_MCA_orte_ess_jobid");
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tailedcore-mpi-" + std::string(job ? job : "solo") + "-" +
                    std::to_string(world().size()) + "-" + name);
  if (world().rank() == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  world().barrier();
  return dir;
}

}  // namespace tc::testing

namespace {

// Non-zero ranks print only their failed assertions, prefixed with the rank,
// so a failure on rank 2 is visible in the CTest log.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, r.file_name() ? r.file_name() : "?",
                   r.line_number(), r.summary());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  tc::testing::g_world = tc::dist::init_world(&argc, &argv);
  tc::core::set_thread_count(1);
  ::testing::InitGoogleTest(&argc, argv);
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (tc::testing::world().rank() != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(tc::testing::world().rank()));
  }
  const int local = RUN_ALL_TESTS();
  // Any rank's failure fails every rank's exit code.
  auto failed = tc::testing::world().allreduce(torch::tensor({int64_t{local != 0}}),
                                               tc::dist::ReduceOp::kMax);
  const int rc = failed.item<int64_t>() ? 1 : 0;
  tc::testing::world().barrier();
  tc::testing::g_world.reset();
  return rc;
}
