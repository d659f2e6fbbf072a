// Scoring against a memory bank too large for one rank (DESIGN.md
// "Distribution", scoring): each rank holds a contiguous block of the bank's
// rows (dist::shard_range over its M rows). Each rank reads only its own
// queries; a block of queries travels around the ring of ranks (one
// alltoallv with one non-empty part a hop), each rank adding the k nearest
// of its part, and comes back to its owner with every rank's candidates,
// which are merged (ties to the lower rank, i.e. the lower bank row) and
// scored as models::Scorer does: the mean over the k nearest of the squared
// L2 distance times the row's weight. Every test row is read once in the job.
//
// Contract: collective over comm; every rank calls score_own the same number
// of times (with 0 queries when it has none left).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>

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
  ShardedScorer(MemoryBank local, int64_t first_row, const index::IndexOptions& opts,
                dist::Comm& comm);
  ~ShardedScorer();
  /// This rank's queries [n, D] (any n, 0 allowed), rows first_row.. of the
  /// class's test rows -> their [n] float32 scores.
  at::Tensor score_own(const at::Tensor& queries, int64_t first_row) const;
  int64_t dim() const { return dim_; }

 private:
  /// The k nearest of `queries` in this rank's part: squared distances and
  /// weighted distances [n, k] (+inf and 0 where the part has fewer rows).
  std::pair<at::Tensor, at::Tensor> local_nearest(const at::Tensor& queries,
                                                  int64_t first_row) const;

  MemoryBank local_;
  int64_t first_row_;
  int64_t k_, dim_;
  dist::Comm& comm_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

/// This rank's block (dist::shard_range) of coreset.h5's bank; sets first_row.
MemoryBank read_bank_block(const std::filesystem::path& path, dist::Comm& comm, int64_t& first_row);

}  // namespace tc::models
