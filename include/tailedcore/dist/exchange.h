// Collectives the sharded data plane needs beyond Comm (DESIGN.md
// "Distribution": no rank holds the whole bank): the greedy coreset's fused
// per-step pick and LOF's all-to-all of projected rows. Built on Comm (and on
// MPI directly where Comm has no such call), so every backend runs them.
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
  int owner;       // the rank whose candidate won
};
RowPick max_loc_with_row(Comm& comm, double value, int64_t index, const at::Tensor& row);
/// Bytes one rank sends (and receives from each rank) per max_loc_with_row of [d] rows.
int64_t max_loc_with_row_bytes(int64_t d);

/// All-to-all of row blocks: parts[r] ([n_r, ...], contiguous host tensors,
/// n_r may be 0) goes to rank r; returns the blocks every rank sent to this
/// one, in rank order. MpiComm: one MPI_Alltoallv (rows as one MPI type, so
/// counts are rows); other backends: one allgatherv per destination.
std::vector<at::Tensor> alltoallv(Comm& comm, const std::vector<at::Tensor>& parts);

/// Every rank's `local` ([n_r, ...], same dtype and trailing shape; n_r may be
/// 0) concatenated in rank order on `root` only; undefined elsewhere. One
/// alltoallv with one non-empty part: under MpiComm no other rank receives it.
at::Tensor gather_to(Comm& comm, const at::Tensor& local, int root);

}  // namespace tc::dist
