// Patch scores from the nearest bank rows (SPEC 5.4). The scores stage finds
// each test patch's k nearest bank rows wherever the bank lives (one index
// over the whole bank, or the ring of ranks each holding a block:
// models/bank_search.h) and hands them to the method's Scorer
// (Method::scorer): the placement decides how neighbours are found, the
// method what they score, so a method's scorer holds on both placements.
#pragma once

#include <ATen/core/Tensor.h>

namespace tc::models {

/// The k nearest bank rows of n queries.
struct Neighbours {
  // [n, k] float32 squared L2, ascending per row (ties: the lower bank row first).
  at::Tensor distances;
  // [n, k] float32: those rows' MemoryBank::weights; undefined: an unweighted bank.
  at::Tensor weights;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  /// -> [n] float32 patch scores. Default: the mean over the k of the
  /// squared distance, each times its row's weight when the bank is weighted
  /// (SoftPatch); with k = 1 the reference's score exactly.
  virtual at::Tensor score(const Neighbours& nearest) const;
};

}  // namespace tc::models
