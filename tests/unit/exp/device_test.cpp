// model.device: the key, its resolution per rank and its one-line errors.
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "tailedcore/dist/device_startup.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/exp/plan.h"
#include "testing.h"

namespace {

using tc::dist::DeviceEnvironment;
using tc::dist::resolve_device;

DeviceEnvironment env(bool torch_cuda, int rank_gpu, int visible) {
  DeviceEnvironment e;
  e.torch_has_cuda = torch_cuda;
  e.rank_gpu = rank_gpu;
  e.visible_gpus = visible;
  e.torch_version = "9.9.9";
  e.host = "nodeA";
  return e;
}

std::string error_of(const std::string& value, const DeviceEnvironment& e) {
  return tc::testing::error_of([&] { resolve_device(value, e, "c.yaml: model.device"); });
}

TEST(Device, CpuIsTheHostWhateverIsPresent) {
  EXPECT_EQ(resolve_device("cpu", env(true, 1, 2)), c10::Device(c10::kCPU));
  EXPECT_EQ(resolve_device("cpu", env(false, -1, 0)), c10::Device(c10::kCPU));
}

TEST(Device, AutoTakesTheRanksGpuOnlyWhenLibTorchHasCuda) {
  EXPECT_EQ(resolve_device("auto", env(true, 1, 2)), c10::Device(c10::kCUDA, 1));
  EXPECT_EQ(resolve_device("auto", env(true, -1, 0)), c10::Device(c10::kCPU));  // no GPU
  EXPECT_EQ(resolve_device("auto", env(false, 0, 1)), c10::Device(c10::kCPU));  // CPU-only LibTorch
}

TEST(Device, CudaTakesTheRanksGpu) {
  EXPECT_EQ(resolve_device("cuda", env(true, 3, 4)), c10::Device(c10::kCUDA, 3));
}

TEST(Device, CudaWithACpuOnlyLibTorchIsOneLineSayingSo) {
  const auto msg = error_of("cuda", env(false, 0, 1));
  EXPECT_NE(msg.find("c.yaml: model.device = cuda"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LibTorch 9.9.9 is a CPU-only build"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Device, CudaWithoutAGpuIsOneLineSayingSo) {
  const auto msg = error_of("cuda", env(true, -1, 0));
  EXPECT_NE(msg.find("model.device = cuda: no usable GPU on nodeA (0 visible"), std::string::npos)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Device, AnUnknownValueListsTheKnownOnes) {
  const auto msg = error_of("gpu", env(true, 0, 1));
  EXPECT_NE(msg.find("'gpu' is unknown: expected one of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cuda"), std::string::npos) << msg;
}

TEST(Device, TheKeyIsReadCheckedAndWrittenBack) {
  EXPECT_EQ(tc::exp::parse_config("", {}, "c.yaml").model.device, "auto");
  const auto cfg = tc::exp::parse_config("model:\n  device: cpu\n", {}, "c.yaml");
  EXPECT_EQ(cfg.model.device, "cpu");
  EXPECT_NE(tc::exp::to_yaml(cfg).find("device: cpu"), std::string::npos);
  const auto msg =
      tc::testing::error_of([] { tc::exp::parse_config("", {"model.device=gpu"}, "c.yaml"); });
  EXPECT_NE(msg.find("model.device: 'gpu' is unknown"), std::string::npos) << msg;
}

TEST(Device, ThePlanCarriesTheDeviceAndItsOrdinal) {
  auto cfg = tc::exp::parse_config("model:\n  device: cpu\n", {}, "c.yaml");
  const auto plan = tc::exp::make_plan(cfg);
  EXPECT_TRUE(plan.device.is_cpu());
  EXPECT_EQ(plan.index.cuda_device, -1);
  EXPECT_EQ(plan.head_coreset.cuda_device, -1);
  EXPECT_EQ(plan.tail_coreset.cuda_device, -1);
  EXPECT_EQ(plan.lof.cuda_device, -1);
  EXPECT_EQ(plan.class_size.cuda_device, -1);
  EXPECT_EQ(tc::dist::describe_device(plan.device), "cpu");
}

// This machine's own LibTorch: with a CPU-only build (CI's Debian 1.13),
// model.device: cuda stops at make_plan with the one line; auto is the CPU.
TEST(Device, TheRealEnvironmentResolves) {
  const auto real = tc::dist::device_environment();
  EXPECT_EQ(real.torch_has_cuda, at::hasCUDA());
  auto cfg = tc::exp::parse_config("model:\n  device: cuda\n", {}, "c.yaml");
  if (real.torch_has_cuda && real.rank_gpu >= 0) {
    const auto plan = tc::exp::make_plan(cfg);
    EXPECT_TRUE(plan.device.is_cuda());
    EXPECT_EQ(plan.index.cuda_device, real.rank_gpu);
    return;
  }
  const auto msg = tc::testing::error_of([&] { tc::exp::make_plan(cfg); });
  EXPECT_NE(msg.find("model.device = cuda: "), std::string::npos) << msg;
  if (!real.torch_has_cuda) EXPECT_NE(msg.find("is a CPU-only build"), std::string::npos) << msg;
  cfg.model.device = "auto";
  EXPECT_TRUE(tc::exp::make_plan(cfg).device.is_cpu());
}

}  // namespace
