// Collectives the sharded data plane builds on Comm (DESIGN.md "Distribution":
// no rank holds the whole bank): the greedy coreset's fused per-step pick, on
// the host (max_loc_with_row) or on the device (max_loc_packed), and a gather
// to one rank. Built on Comm only, so every backend runs them.
//
// Contract: collective over comm; every rank calls, in the same order, with
// tensors of the same dtype and trailing shape.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace tc::dist {

class Comm;

/// The winner of max_loc's rule (largest value, ties to the lowest index, NaN
/// loses) over every rank's (value, index), together with the winner's `row`
/// ([d] float32, host; any content where a rank has no candidate). One
/// allgather of d + 4 words per rank: value, index and row in one round trip,
/// where max_loc then a broadcast from the owner would be two.
struct RowPick {
  double value;
  int64_t index;
  at::Tensor row;  // [d] float32
};
RowPick max_loc_with_row(Comm& comm, double value, int64_t index, const at::Tensor& row);
/// Bytes one rank sends (and receives from each rank) per max_loc_with_row of [d] rows.
int64_t max_loc_with_row_bytes(int64_t d);

/// A candidate as it travels: [4 + d] int32 words, value as float64 (words
/// 0-1), index as int64 (words 2-3), then the [d] float32 row, bit for bit.
/// No candidate: value -inf, index INT64_MAX (it loses to any real one).
inline constexpr int64_t kPackedHeaderWords = 4;
at::Tensor pack_candidate(double value, int64_t index, const at::Tensor& row);

/// max_loc_with_row on packed candidates ([4 + d] int32 on the communicator's
/// device): one allgather, then on a GPU one kernel picks the winner by the
/// same rule as max_loc (no host round trip: the device greedy queues step
/// after step); CPU tensors are picked on the host. Returns the winner's
/// [4 + d] words on that device.
at::Tensor max_loc_packed(Comm& comm, const at::Tensor& packed);

/// Every rank's `local` ([n_r, ...], same dtype and trailing shape; n_r may be
/// 0) concatenated in rank order on `root` only; undefined elsewhere. One
/// Comm::alltoallv with one non-empty part: no other rank receives it.
at::Tensor gather_to(Comm& comm, const at::Tensor& local, int root);

}  // namespace tc::dist
