#include "tailedcore/sampling/greedy_device_loop.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/sampling/greedy_device.h"

namespace tc::sampling {

int64_t run_packed_steps(const PackedStep& step, at::Tensor centre, int64_t first_step, int64_t m,
                         int64_t batch, dist::Comm& comm, int64_t* sel,
                         const std::function<void(int64_t)>& on_picks) {
  TC_CHECK(batch >= 1, "greedy on the device: pick batch ", batch, ": expected >= 1");
  const int64_t h = dist::kPackedHeaderWords;
  const auto device = centre.device();
  auto picks = torch::empty({batch}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  int64_t round_trips = 0, pending = 0;
  const auto flush = [&] {
    if (pending == 0) return;
    const auto host = picks.narrow(0, 0, pending).to(torch::kCPU);  // the batch's one wait
    std::copy(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + pending, sel);
    sel += pending;
    ++round_trips;
    if (on_picks) on_picks(pending);
    pending = 0;
  };
  sel += first_step;
  for (int64_t s = first_step; s < m; ++s) {
    const auto winner = dist::max_loc_packed(comm, step(centre));  // [4 + d] int32 on the device
    picks.narrow(0, pending, 1).copy_(winner.narrow(0, 2, 2).view(torch::kInt64));
    centre = winner.narrow(0, h, winner.numel() - h).view(torch::kFloat32);
    if (++pending == batch) flush();
  }
  flush();
  return round_trips;
}

PackedStep torch_packed_step(const at::Tensor& rows_in, int64_t begin) {
  TC_CHECK(rows_in.dim() == 2, "greedy rows must be [rows, dim]: got ", rows_in.sizes());
  const auto rows = rows_in.to(torch::kFloat32).contiguous();
  auto min_dist =
      torch::full({rows.size(0)}, std::numeric_limits<float>::infinity(), rows.options());
  return [rows, min_dist, begin](const at::Tensor& centre) mutable {
    if (rows.size(0) == 0)
      return dist::pack_candidate(-std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<int64_t>::max(), torch::zeros({rows.size(1)}))
          .to(rows.device());
    min_dist = torch::minimum(min_dist, (rows - centre.view({1, -1})).norm(2, 1));
    // max() returns the first of equal maxima, as the CPU step's `m > best`; a NaN is never picked
    // there.
    const auto masked =
        min_dist.masked_fill(min_dist.isnan(), -std::numeric_limits<float>::infinity());
    const auto best = masked.argmax();
    const auto row = rows.index_select(0, best.view({1})).view({-1});
    auto packed = torch::empty({dist::kPackedHeaderWords + rows.size(1)},
                               torch::TensorOptions().dtype(torch::kInt32).device(rows.device()));
    packed.narrow(0, 0, 2)
        .view(torch::kFloat64)
        .copy_(masked.index_select(0, best.view({1})).to(torch::kFloat64));
    packed.narrow(0, 2, 2).view(torch::kInt64).copy_(best.view({1}) + begin);
    packed.narrow(0, dist::kPackedHeaderWords, rows.size(1)).view(torch::kFloat32).copy_(row);
    return packed;
  };
}

PackedStep cuda_packed_step(const at::Tensor& rows_in, int64_t begin, int cuda_device) {
  const auto rows = rows_in.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t d = rows.size(1);
  auto block =
      std::make_shared<GreedyDeviceBlock>(rows.data_ptr<float>(), rows.size(0), d, cuda_device);
  const auto options =
      torch::TensorOptions().dtype(torch::kInt32).device(torch::kCUDA, cuda_device);
  return [block, begin, d, options](const at::Tensor& centre) {
    // A fresh buffer a step from LibTorch's caching allocator (no launch): the
    // previous step's winner may be a view of the previous buffer.
    auto packed = torch::empty({dist::kPackedHeaderWords + d}, options);
    const auto c = centre.contiguous();
    block->update_packed(c.data_ptr<float>(), begin, packed.data_ptr<int32_t>());
    return packed;
  };
}

}  // namespace tc::sampling
