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
at::Tensor project(const at::Tensor& x, int64_t out_dim, uint64_t seed);

}  // namespace tc::sampling
