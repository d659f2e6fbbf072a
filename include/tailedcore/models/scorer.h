// Patch scores against a memory bank (SPEC 5.4).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

#include "tailedcore/index/nearest.h"
#include "tailedcore/models/memory_bank.h"

namespace tc::models {

class Scorer {
 public:
  Scorer(MemoryBank bank, const index::IndexOptions& opts);

  /// patches [n, D] -> [n] float32: the mean over the k nearest bank rows of
  /// the squared L2 distance, each times that row's weight when the bank is
  /// weighted (SoftPatch). With k = 1 this is the reference's score exactly.
  /// first_row: the patches' first row among the class's test rows
  /// (index::NearestNeighbors::search).
  at::Tensor score_patches(const at::Tensor& patches, int64_t first_row = 0) const;
  const MemoryBank& bank() const { return bank_; }

 private:
  MemoryBank bank_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

}  // namespace tc::models
