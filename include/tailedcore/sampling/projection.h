// The random linear projection PatchCore uses before greedy sampling and LOF
// (SPEC 3.1): a bias-free nn.Linear(in, out) with its default init, i.e.
// entries U(-1/sqrt(in), +1/sqrt(in)). The reference draws from torch's global
// RNG at a point that cannot be reproduced outside it; we draw from a
// generator seeded with `seed`, so the same seed gives the same matrix on
// every rank (SPEC 9.1).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tc::sampling {

/// [in_dim, out_dim] float32: projected = x.mm(W).
at::Tensor random_projection(int64_t in_dim, int64_t out_dim, uint64_t seed);

/// Rows per product (kProjectRows): a row's projection is computed in the product of
/// the kProjectRows rows its global index falls in, zero rows standing in for the rows
/// this call lacks, one product per thread. BLAS rows depend on the product's shape, on
/// where the row sits in it and on BLAS's own threads (measured: cutting 20,011 rows in
/// three changed 11,114 rows' bits; 1 or 2 threads changed 13,377); so fixed products,
/// single-threaded, make the bits independent of how ranks, blocks and threads cut.
constexpr int64_t kProjectRows = 1024;

/// x [n, in_dim] -> [n, out_dim], x's rows being rows first_row.. of a sequence whose
/// projection is the same bits however it is cut; out_dim == 0 or out_dim == in_dim
/// returns x unchanged (the reference skips the projection only when dims already match).
at::Tensor project(const at::Tensor& x, int64_t out_dim, uint64_t seed, int64_t first_row = 0);

}  // namespace tc::sampling
