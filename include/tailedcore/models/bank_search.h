// Where the scores stage finds test patches' nearest bank rows, by how the
// bank is held; what they score is the method's (models/scorer.h).
//
// Replicated: every rank holds the whole bank and searches its own queries.
// Sharded, for a bank too large for one rank (DESIGN.md "Distribution",
// scoring): each rank holds a contiguous block of the bank's rows
// (dist::shard_range over its M rows) and reads only its own queries; a
// block of queries travels around the ring of ranks (one alltoallv with one
// non-empty part a hop), each rank adding the k nearest of its part, and
// comes back to its owner with every rank's candidates, which are merged
// (ties to the lower rank, i.e. the lower bank row) into the same
// Neighbours a replicated search gives. Every test row is read once in the
// job.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>

#include "tailedcore/index/nearest.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/models/scorer.h"

namespace tc::dist {
class Comm;
}

namespace tc::models {

/// How the scores stage holds the bank: on every rank when its bytes fit
/// the budget, else sharded.
enum class BankPlacement { kReplicated, kSharded };
/// kSharded when rows x dim x 4 bytes exceed budget_bytes (> 0) and there is
/// more than one rank; budget_bytes <= 0: always kReplicated.
BankPlacement choose_bank_placement(int64_t rows, int64_t dim, double budget_bytes, int ranks);

/// The whole bank on this rank.
class ReplicatedBank {
 public:
  ReplicatedBank(MemoryBank bank, const index::IndexOptions& opts);
  ~ReplicatedBank();
  /// queries [n, D], rows first_row.. of the class's test rows
  /// (index::NearestNeighbors::search) -> their k nearest bank rows.
  Neighbours nearest(const at::Tensor& queries, int64_t first_row = 0) const;
  const MemoryBank& bank() const { return bank_; }

 private:
  MemoryBank bank_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

/// This rank's block of the bank. Contract: collective over comm; every rank
/// calls nearest_own the same number of times (with 0 queries when it has
/// none left).
class ShardedBank {
 public:
  /// `local`: this rank's rows of the bank (features and weights), its
  /// `first_row` in the whole bank.
  ShardedBank(MemoryBank local, int64_t first_row, const index::IndexOptions& opts,
              dist::Comm& comm);
  ~ShardedBank();
  /// This rank's queries [n, D] (any n, 0 allowed), rows first_row.. of the
  /// class's test rows -> their k nearest rows of the whole bank.
  Neighbours nearest_own(const at::Tensor& queries, int64_t first_row) const;
  int64_t dim() const { return dim_; }

 private:
  /// The k nearest of `queries` in this rank's part: squared distances and
  /// the rows' weights [n, k] (+inf and 0 where the part has fewer rows;
  /// weights undefined for an unweighted bank).
  Neighbours local_nearest(const at::Tensor& queries, int64_t first_row) const;

  MemoryBank local_;
  int64_t first_row_;
  int64_t k_, dim_;
  bool weighted_;
  dist::Comm& comm_;
  std::unique_ptr<index::NearestNeighbors> nn_;
};

/// This rank's block (dist::shard_range) of coreset.h5's bank; sets first_row.
MemoryBank read_bank_block(const std::filesystem::path& path, dist::Comm& comm, int64_t& first_row);

}  // namespace tc::models
