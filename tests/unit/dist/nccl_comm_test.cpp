// NcclComm's factory where it cannot work: in a build without CUDA, and in a
// CUDA build on a machine without a device. Its collectives are checked by
// the one collective suite (tests/mpi/collectives_test.cpp).
#include "tailedcore/dist/nccl_comm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"

namespace {

TEST(NcclComm, WithoutCudaTheFactorySaysSo) {
  if (tc::dist::built_with_cuda()) GTEST_SKIP() << "built with CUDA";
  auto self = tc::dist::make_self_comm();
  try {
    tc::dist::make_nccl_comm(*self, 0);
    FAIL() << "make_nccl_comm should throw without CUDA";
  } catch (const tc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA/NCCL"), std::string::npos) << e.what();
  }
}

TEST(NcclComm, NoDeviceIsAOneLineError) {
  if (!tc::dist::built_with_cuda() || tc::dist::cuda_device_count() > 0)
    GTEST_SKIP() << "needs a CUDA build on a machine without a device";
  auto self = tc::dist::make_self_comm();
  EXPECT_THROW(tc::dist::make_nccl_comm(*self, 0), tc::Error);
}

}  // namespace
