#include "tailedcore/dist/device_startup.h"

#include <ATen/Context.h>
#include <torch/version.h>

#include <cstdlib>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/names.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/cuda_device.h"
#include "tailedcore/dist/local_rank.h"
#include "tailedcore/dist/nccl_comm.h"
#include "tailedcore/dist/world.h"

namespace tc::dist {

const std::vector<std::string>& device_names() {
  static const std::vector<std::string> names{"auto", "cpu", "cuda"};
  return names;
}

DeviceEnvironment device_environment() {
  DeviceEnvironment env;
  env.torch_has_cuda = at::hasCUDA();
  env.visible_gpus = cuda_device_count();
  env.rank_gpu = this_rank_device();
  env.torch_version = TORCH_VERSION;
  env.host = core::host_name();
  return env;
}

c10::Device resolve_device(const std::string& value, const DeviceEnvironment& env,
                           const std::string& where) {
  if (value == "cpu") return c10::Device(c10::kCPU);
  const bool usable = env.torch_has_cuda && env.rank_gpu >= 0;
  if (value == "auto")
    return usable ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.rank_gpu))
                  : c10::Device(c10::kCPU);
  TC_CHECK(value == "cuda", where, ": '", value, "' is unknown: expected one of ",
           core::join_names(device_names()));
  TC_CHECK(env.torch_has_cuda, where, " = cuda: this LibTorch ", env.torch_version,
           " is a CPU-only build; expected a CUDA LibTorch (README \"On a GPU cluster\") or "
           "model.device: cpu");
  if (env.rank_gpu < 0) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    TC_FAIL(where, " = cuda: no usable GPU on ", env.host, " (", env.visible_gpus, " visible",
            visible ? std::string(", CUDA_VISIBLE_DEVICES=") + visible : std::string(),
            built_with_cuda() ? "" : "; tailedcore was built without CUDA",
            "); expected a visible CUDA device or model.device: cpu");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.rank_gpu));
}

std::string describe_device(const c10::Device& device) {
  if (!device.is_cuda()) return "cpu";
  const std::string name = cuda_device_name(device.index());
  return device.str() + (name.empty() ? "" : " (" + name + ")");
}

void configure_device_math(const c10::Device& device) {
  if (!device.is_cuda()) return;
  // Float32 stays float32 (issue 13): TF32 would change AUROC by an unmeasured amount.
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  set_cuda_device(device.index());
}

std::unique_ptr<Comm> start_on_device(const c10::Device& device, Comm& world) {
  configure_device_math(device);
  // Every rank says where it runs (what ran where: STYLE 11), not only rank 0.
  core::log_line(core::LogLevel::kInfo,
                 core::detail::concat("host ", core::host_name(), " rank ", world.rank(),
                                      " device ", describe_device(device)));
  return make_device_comm(world, cuda_ordinal(device));
}

}  // namespace tc::dist
