// A rank's device start-up, the one header for it (DESIGN.md "Devices"):
// model.device resolved once per rank into the device its heavy stages run on
// (auto | cpu | cuda), the rank bound to it, and the run's communicator.
//   cpu   the host, whatever else is present;
//   cuda  GPU local_rank % visible_devices (this_rank_device); an error
//         (one line) with a CPU-only LibTorch or without a usable GPU;
//   auto  cuda when this LibTorch has CUDA and a GPU is visible, else cpu.
// Float32 math on the GPU stays float32: TF32 is switched off for cuBLAS and
// cuDNN when a CUDA device is chosen (configure_device_math).
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace tc::dist {

class Comm;

/// The known values of model.device.
const std::vector<std::string>& device_names();

/// What the environment offers, for resolve_device (tests pass their own).
struct DeviceEnvironment {
  bool torch_has_cuda = false;  ///< this LibTorch was built with CUDA (at::hasCUDA())
  int rank_gpu = -1;            ///< this_rank_device(): this rank's CUDA ordinal, -1 without a GPU
  int visible_gpus = 0;         ///< CUDA devices this process sees
  std::string torch_version;    ///< for the message
  std::string host;             ///< for the message
};

/// The real environment of this process.
DeviceEnvironment device_environment();

/// `value` of model.device against `env`. `where` names the setting in an
/// error ("configs/x.yaml: model.device"). An unknown value, cuda with a
/// CPU-only LibTorch, and cuda without a GPU each throw tc::Error in one line.
c10::Device resolve_device(const std::string& value, const DeviceEnvironment& env,
                           const std::string& where = "model.device");

/// "cpu", or "cuda:0 (NVIDIA H200)" when the device's name can be read.
std::string describe_device(const c10::Device& device);

/// Once a rank has chosen `device`: on CUDA, float32 matrix products and
/// convolutions in full float32 (no TF32) and the rank's current device set.
/// Nothing on the CPU.
void configure_device_math(const c10::Device& device);

/// Once per run on every rank, after the plan: configure_device_math, one log
/// line per rank "host H rank R device D", and the communicator the run's
/// collectives use (make_device_comm, world.h: NcclComm when the ranks are on
/// GPUs and there are several; nullptr = use `world`). Collective over world.
std::unique_ptr<Comm> start_on_device(const c10::Device& device, Comm& world);

/// The CUDA ordinal for option structs: device.index() on CUDA, -1 on the CPU.
inline int cuda_ordinal(const c10::Device& device) {
  return device.is_cuda() ? static_cast<int>(device.index()) : -1;
}

}  // namespace tc::dist
