#include "tailedcore/dist/exchange.h"

#include <torch/torch.h>

#include <cstring>

#include "max_loc_pick.h"
#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"

namespace tc::dist {

int64_t max_loc_with_row_bytes(int64_t d) { return (kPackedHeaderWords + d) * 4; }

at::Tensor pack_candidate(double value, int64_t index, const at::Tensor& row) {
  const auto r = row.to(torch::kCPU, torch::kFloat32).contiguous().view({-1});
  const int64_t d = r.numel();
  // int32 words: every backend moves them bit for bit (a NaN value included).
  auto msg = torch::empty({kPackedHeaderWords + d}, torch::kInt32);
  auto* w = msg.data_ptr<int32_t>();
  std::memcpy(w, &value, sizeof value);
  std::memcpy(w + 2, &index, sizeof index);
  std::memcpy(w + kPackedHeaderWords, r.data_ptr<float>(), static_cast<size_t>(d) * sizeof(float));
  return msg;
}

RowPick max_loc_with_row(Comm& comm, double value, int64_t index, const at::Tensor& row) {
  const auto msg = pack_candidate(value, index, row);
  const int64_t words = msg.numel(), d = words - kPackedHeaderWords;
  const auto all = comm.allgather(msg).contiguous().to(torch::kCPU);  // [size * (4 + d)]
  const int32_t* won =
      all.data_ptr<int32_t>() +
      detail::winner_of_packed(all.data_ptr<int32_t>(), comm.size(), words) * words;
  RowPick out{0, 0, torch::empty({d}, torch::kFloat32)};
  std::memcpy(&out.value, won, sizeof out.value);
  std::memcpy(&out.index, won + 2, sizeof out.index);
  std::memcpy(out.row.data_ptr<float>(), won + kPackedHeaderWords,
              static_cast<size_t>(d) * sizeof(float));
  return out;
}

at::Tensor max_loc_packed(Comm& comm, const at::Tensor& packed) {
  TC_CHECK(packed.dim() == 1 && packed.scalar_type() == torch::kInt32 &&
               packed.numel() >= kPackedHeaderWords,
           "max_loc_packed: expected [4 + d] int32 words (pack_candidate), got ",
           packed.scalar_type(), " ", packed.sizes());
  const int64_t words = packed.numel();
  if (comm.size() == 1) return packed;
  const auto all = comm.allgather(packed.contiguous()).contiguous();
#ifdef TAILEDCORE_WITH_CUDA
  if (all.is_cuda()) {  // one launch, no host wait
    auto out = torch::empty({words}, all.options());
    detail::pick_packed_on_device(all.data_ptr<int32_t>(), comm.size(), words,
                                  out.data_ptr<int32_t>());
    return out;
  }
#endif
  // On the host (without the kernel, a device tensor waits for its copy here).
  const auto host = all.to(torch::kCPU);
  const int winner = detail::winner_of_packed(host.data_ptr<int32_t>(), comm.size(), words);
  return all.narrow(0, winner * words, words);
}

at::Tensor gather_to(Comm& comm, const at::Tensor& local, int root) {
  TC_CHECK(local.dim() >= 1, "gather_to: the tensor must have rank >= 1");
  auto empty_shape = local.sizes().vec();
  empty_shape[0] = 0;
  std::vector<at::Tensor> parts(comm.size(), torch::empty(empty_shape, local.options()));
  parts[root] = local;
  auto got = comm.alltoallv(parts);
  if (comm.rank() != root) return at::Tensor();
  return torch::cat(got);
}

}  // namespace tc::dist
