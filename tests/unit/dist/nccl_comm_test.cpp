// NcclComm over one rank (SelfComm bootstrap) on host tensors, staged through
// the device: every collective's one-rank result is its input. Skips without a
// CUDA device; in a build without CUDA the factory must say so.
#include "tailedcore/dist/nccl_comm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"

namespace {

using tc::dist::ReduceOp;

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

class NcclOneRank : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tc::dist::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    self_ = tc::dist::make_self_comm();
    comm_ = tc::dist::make_nccl_comm(*self_, 0);
  }
  std::unique_ptr<tc::dist::Comm> self_, comm_;
};

TEST_F(NcclOneRank, CollectivesReturnTheInput) {
  auto& c = *comm_;
  EXPECT_EQ(c.backend(), "nccl");
  EXPECT_EQ(c.rank(), 0);
  EXPECT_EQ(c.size(), 1);
  for (auto dtype :
       {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kInt64, torch::kUInt8}) {
    auto t = torch::arange(12, torch::kInt64).reshape({4, 3}).to(dtype);
    EXPECT_TRUE(torch::equal(c.allgather(t), t)) << dtype;
    EXPECT_TRUE(torch::equal(c.allgatherv(t), t)) << dtype;
    EXPECT_TRUE(torch::equal(c.allreduce(t, ReduceOp::kSum), t)) << dtype;
    EXPECT_TRUE(torch::equal(c.allreduce(t, ReduceOp::kMax), t)) << dtype;
    EXPECT_TRUE(torch::equal(c.broadcast(t, 0), t)) << dtype;
  }
  auto empty = torch::zeros({0, 5});
  EXPECT_EQ(c.allgatherv(empty).sizes(), empty.sizes());
  c.barrier();
}

TEST_F(NcclOneRank, MaxLocAndSplit) {
  auto& c = *comm_;
  EXPECT_EQ(c.max_loc(2.5, 7), std::make_pair(2.5, int64_t{7}));
  auto sub = c.split(3, 0);
  EXPECT_EQ(sub->size(), 1);
  auto s = sub->allreduce(torch::tensor({int64_t{41}}), ReduceOp::kSum);
  EXPECT_EQ(s.item<int64_t>(), 41);
  EXPECT_THROW(c.broadcast(torch::ones({2}), 1), tc::Error);
}

}  // namespace
