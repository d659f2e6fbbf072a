// Scoring against a memory bank too large for one rank (DESIGN.md
// "Distribution", scoring): each rank holds a contiguous block of the bank's
// rows (dist::shard_range over its M rows) and searches it for every query;
// per query the k nearest over all ranks are merged (ties to the lower rank,
// i.e. the lower bank row) and scored as models::Scorer does: the mean over
// the k nearest of the squared L2 distance times the row's weight.
//
// Contract: collective over comm; every rank passes the same queries.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include <ATen/core/Tensor.h>

#include "tailedcore/index/nearest.h"
#include "tailedcore/models/memory_bank.h"

namespace tc::models {

/// How the scores stage holds the bank: on every rank when its bytes fit
/// the budget, else sharded.
enum class BankPlacement { kReplicated, kSharded };
/// kSharded when rows x dim x 4 bytes exceed budget_bytes (> 0) and there is
/// more than one rank; budget_bytes <= 0: always kReplicated.
BankPlacement choose_bank_placement(int64_t rows, int64_t dim, double budget_bytes, int ranks);

class ShardedScorer {
 public:
  /// `local`: this rank's rows of the bank (features and weights), its
  /// `first_row` in the whole bank.
  ShardedScorer(MemoryBank local, int64_t first_row, const index::IndexOptions& opts, dist::Comm& comm);
  ~ShardedScorer();
  /// queries [n, D] (the same on every rank) -> [n] float32 on every rank.
  at::Tensor score_patches(const at::Tensor& queries) const;

 private:
  MemoryBank local_;
  int64_t first_row_;
  int64_t k_;
  dist::Comm& comm_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

/// This rank's block (dist::shard_range) of coreset.h5's bank; sets first_row.
MemoryBank read_bank_block(const std::filesystem::path& path, dist::Comm& comm, int64_t& first_row);

}  // namespace tc::models
