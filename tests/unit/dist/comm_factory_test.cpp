// The communicator factory and the one place that picks a backend, on the
// CPU with made-up environments; the check that runs before NCCL starts.
#include "tailedcore/dist/comm_factory.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/world.h"
#include "testing.h"

namespace {

using tc::dist::BackendFacts;
using tc::dist::choose_backend;

TEST(CommFactory, BuildsByNameAndListsTheKnownOnes) {
  const auto names = tc::dist::comm_names();
  for (const char* n : {"self", "mpi", "nccl"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(tc::dist::make_comm("self")->backend(), "self");
  const auto msg = tc::testing::error_of([] { tc::dist::make_comm("gloo"); });
  EXPECT_NE(msg.find("'gloo' is unknown: expected one of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nccl"), std::string::npos) << msg;
  EXPECT_THROW(tc::dist::register_comm(
                   "self", [](const tc::dist::CommRequest&) { return tc::dist::make_self_comm(); }),
               tc::Error);
  // NCCL's maker says what it lacks before touching a device.
  EXPECT_NE(tc::testing::error_of([] { tc::dist::make_comm("nccl"); }).find("bootstrap"),
            std::string::npos);
}

TEST(CommFactory, ChoosesOneBackendFromTheFacts) {
  EXPECT_EQ(choose_backend({}), "self");
  EXPECT_EQ(choose_backend({true, 1, false, true}), "mpi");
  EXPECT_EQ(choose_backend({true, 4, false, true}), "mpi");  // ranks on the CPU
  EXPECT_EQ(choose_backend({true, 4, true, false}), "mpi");  // no NCCL in this build
  EXPECT_EQ(choose_backend({true, 4, true, true}), "nccl");
  EXPECT_EQ(choose_backend({true, 1, true, true}), "mpi");  // one rank: nothing for NCCL to do
}

TEST(GpuSharing, OneRankPerGpuPassesAndASharedGpuIsOneLine) {
  using P = tc::dist::RankPlace;
  EXPECT_EQ(tc::dist::gpu_sharing({P{"a", 0, 2}, P{"a", 1, 2}, P{"b", 0, 2}, P{"b", 1, 2}}), "");
  EXPECT_EQ(tc::dist::gpu_sharing({P{"a", -1, 0}, P{"a", -1, 0}}), "");  // CPU ranks share nothing
  const auto msg = tc::dist::gpu_sharing({P{"a", 0, 2}, P{"a", 1, 2}, P{"a", 0, 2}, P{"b", 0, 1}});
  EXPECT_EQ(msg,
            "host a: 3 ranks on 2 GPU(s), ranks 0,2 all on cuda:0: NCCL needs one rank per GPU "
            "(start at most 2 ranks on a, e.g. srun --gpus-per-task=1, or set model.device: cpu)");
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

}  // namespace
