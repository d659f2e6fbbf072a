// The random linear projection PatchCore uses before greedy sampling and LOF
// (SPEC 3.1): a bias-free nn.Linear(in, out) with its default init, i.e.
// entries U(-1/sqrt(in), +1/sqrt(in)). The reference draws from torch's global
// RNG at a point that cannot be reproduced outside it; we draw from a
// generator seeded with `seed`, so the same seed gives the same matrix on
// every rank (SPEC 9.1).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace tc::sampling {

/// [in_dim, out_dim] float32: projected = x.mm(W).
at::Tensor random_projection(int64_t in_dim, int64_t out_dim, uint64_t seed);

/// x [n, in_dim] -> [n, out_dim]; out_dim == 0 or out_dim == in_dim returns x
/// unchanged (the reference skips the projection only when dims already match).
///
/// x may be rows [first_row, first_row + n) of a longer sequence of
/// total_rows rows (-1: x is the whole sequence) that ranks or blocks cut
/// anywhere. A BLAS kernel runs the last rows of a product, when their count
/// is not a multiple of its tile, through other code that may round
/// otherwise, so a row's projection would depend on the cut and a near-tie in
/// the greedy could go either way. Here every product starts at a multiple of
/// 64 of the sequence and ends at one or at the sequence's end (rows outside
/// x are zeros): each row goes through the tiles it has when the whole
/// sequence is projected at once, on any cut.
at::Tensor project(const at::Tensor& x, int64_t out_dim, uint64_t seed, int64_t first_row = 0,
                   int64_t total_rows = -1);

}  // namespace tc::sampling
