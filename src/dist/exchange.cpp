#include "tailedcore/dist/exchange.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>

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
  // The host pick: the CPU greedy calls this every step, where max_loc_packed's
  // tensor operations would cost more than the step's exchange.
  const auto all = comm.allgather(msg).contiguous();  // [size * (4 + d)]
  const int n = comm.size();
  std::vector<detail::ValueIndex> cands(n);
  const auto* a = all.data_ptr<int32_t>();
  for (int k = 0; k < n; ++k) {
    std::memcpy(&cands[k].value, a + k * words, sizeof(double));
    std::memcpy(&cands[k].index, a + k * words + 2, sizeof(int64_t));
  }
  const auto [v, i] = detail::pick_max_loc(cands);
  int owner = 0;
  for (int k = 0; k < n; ++k)
    if (cands[k].index == i &&
        (cands[k].value == v || (std::isnan(v) && std::isnan(cands[k].value)))) {
      owner = k;
      break;
    }
  RowPick out{v, i, torch::empty({d}, torch::kFloat32)};
  std::memcpy(out.row.data_ptr<float>(), a + owner * words + kPackedHeaderWords,
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
  const auto all = comm.allgather(packed.contiguous()).view({comm.size(), words});
  const auto head = all.narrow(1, 0, kPackedHeaderWords).contiguous();
  const auto value = head.narrow(1, 0, 2).contiguous().view(torch::kFloat64).view({-1});
  const auto index = head.narrow(1, 2, 2).contiguous().view(torch::kInt64).view({-1});
  // pick_max_loc's rule: the largest value, NaN below everything (all NaN:
  // every rank competes), then the lowest index, then the lowest rank.
  const auto nan = value.isnan();
  const auto v = value.masked_fill(nan, -std::numeric_limits<double>::infinity());
  const auto in_race = v.eq(v.max()).logical_and(nan.logical_not().logical_or(nan.all()));
  const auto lowest =
      index.masked_fill(in_race.logical_not(), std::numeric_limits<int64_t>::max()).min();
  const auto winner =
      in_race.logical_and(index.eq(lowest)).to(torch::kInt32).argmax();  // the first
  return all.index_select(0, winner.view({1})).view({words});
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
