// The greedy coreset's loop with its state on a device (DESIGN.md "Devices"):
// each step is this rank's packed step (GreedyDeviceBlock::update_packed on a
// GPU), one dist::max_loc_packed (the fused pick: value, global index and row
// in one allgather, the winner chosen by one kernel on the device) and
// the winner's row as the next centre, all queued on the device with no host
// round trip. The picks are copied to the host once every `batch` steps.
//
// Launches a step on a GPU: 2 kernels (update, reduce + pack), 1 copy (the
// pick into the batch), and under several ranks 1 NCCL allgather and 1 pick
// kernel more; host round trips: 1 per `batch` steps.
//
// Contract: collective over comm; every rank calls with the same first step,
// m and batch. The same loop runs on the CPU (torch_packed_step), which is how
// the tests check its control flow against the CPU greedy.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

/// This rank's part of one step: folds `centre` ([d] float32 on the device)
/// into its min-distances and returns its candidate, packed
/// (dist::pack_candidate's layout, index global), on the same device.
using PackedStep = std::function<at::Tensor(const at::Tensor& centre)>;

/// Steps [first_step, m) of the greedy from `centre` (the row of pick
/// first_step - 1, [d] float32 on the device): writes picks into sel[first_step
/// .. m), `batch` (>= 1) at a time; `on_picks(count)` after each batch reaches
/// the host (progress). Returns the number of host round trips it made.
int64_t run_packed_steps(const PackedStep& step, at::Tensor centre, int64_t first_step, int64_t m,
                         int64_t batch, dist::Comm& comm, int64_t* sel,
                         const std::function<void(int64_t)>& on_picks = {});

/// The CPU twin of GreedyDeviceBlock::update_packed for `rows` ([b, d]
/// float32, any device; global rows begin ..): min-distances as tensor
/// operations, norms in torch's order, so its picks are the CPU greedy's.
PackedStep torch_packed_step(const at::Tensor& rows, int64_t begin);

/// update_packed on `cuda_device` over `rows` ([b, d] float32, host; copied
/// once). Throws "built without CUDA" in a build without it.
PackedStep cuda_packed_step(const at::Tensor& rows, int64_t begin, int cuda_device);

}  // namespace tc::sampling
