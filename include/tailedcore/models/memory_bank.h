// The memory bank a model scores against, and the one way a greedy coreset
// fills it (its artifact, coreset.h5, is in pipeline/artifacts.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "tailedcore/sampling/greedy_checkpoint.h"

namespace tc::dist {
class Comm;
}
namespace tc::sampling {
struct CoresetOptions;
struct GreedyStats;
}  // namespace tc::sampling

namespace tc::models {

struct MemoryBank {
  // The bank's rows, float32, host. A fitted bank (greedy_bank) is spread
  // over the ranks: each holds the chosen rows it owned, `positions` their
  // rows in the bank, and pipeline::write_bank streams them to one writer;
  // no rank holds the whole bank. A bank read from coreset.h5 holds rows in
  // order (positions undefined): all M, or a block (read_bank_block).
  at::Tensor features;   // [m, D]
  at::Tensor positions;  // [m] int64: each row's place in the bank; undefined: the rows in order
  at::Tensor weights;    // [M] float32 per-row score weights (SoftPatch: LOF scores); undefined = 1
  at::Tensor source_rows;  // [M] int64 on every rank: the row each bank row was chosen from (tail
                           // rows index the tail feature set, head rows the training features)
  int64_t tail_rows = 0;   // TailedCore: the first tail_rows rows come from the tail branch
  // The seeds of the greedy draws (projection and first centre) that chose the
  // head and tail rows; -1 = no such branch. Recorded in coreset.h5 so a run's
  // draws can be reproduced outside it (tests/bench/end_to_end.py does).
  int64_t greedy_seed = -1, tail_greedy_seed = -1;
  // What each branch's greedy steps cost: rows visited a step (all ranks, the
  // mean over the steps run; -1 = no such greedy) of its rows (a full pass).
  // Recorded in coreset.h5 (greedy_cells.h).
  double greedy_visits_per_step = -1, tail_greedy_visits_per_step = -1;
  int64_t greedy_rows = 0, tail_greedy_rows = 0;

  int64_t rows() const { return source_rows.defined() ? source_rows.size(0) : 0; }
};

/// A tail bank and a head bank as one, tail first (SPEC 5.1 step 4): each
/// rank's own rows side by side (the head's positions after the tail's), no
/// copy of either bank.
MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head);

/// This rank's block of a bank's candidate rows: global rows
/// [first_row, first_row + rows) of an [n, dim] source, read `count` rows at
/// a time from local offset `first` (float32, finite), so a file's rows are
/// never held whole.
struct LocalRows {
  int64_t first_row = 0, rows = 0, dim = 0;
  std::function<at::Tensor(int64_t first, int64_t count)> read;

  /// A tensor [b, dim] holding global rows [first_row, first_row + b).
  static LocalRows of(const at::Tensor& local, int64_t first_row);
  /// This rank's block (dist::shard_range) of the [n, dim] dataset of an HDF5
  /// file (e.g. tail_features.h5's virtual /features): only that block is read.
  static LocalRows of_file(const std::filesystem::path& path, const std::string& dataset,
                           dist::Comm& comm);
};

/// Rows a bank builder reads and projects at a time: 32 MiB at 1024-d, a
/// term every rank holds whatever the rank count, so it is kept small (its
/// share of a rank's peak: results/bench/scaling_rss.md).
constexpr int64_t kBankReadRows = 8192;

/// The greedy coreset bank. Contract: collective over comm; `local` is this
/// rank's block (blocks contiguous, in rank order). `subset` (ascending
/// global rows, e.g. LOF's kept rows; undefined = every row) is the same on
/// every rank. Each rank projects only its own candidates, `block_rows` at a
/// time (opts.proj_dim, opts.seed), the greedy runs over the projected rows
/// with one fused pick per step (sampling::greedy_coreset); each rank reads
/// its chosen rows again at full width and keeps them (features, positions:
/// their places in selection order); source_rows (global rows) on every
/// rank. Nothing crosses ranks at full width here (pipeline::write_bank
/// streams the rows to rank 0 a block at a time).
MemoryBank greedy_bank(const LocalRows& local, const at::Tensor& subset,
                       const sampling::CoresetOptions& opts, dist::Comm& comm,
                       sampling::GreedyStats* stats = nullptr, int64_t block_rows = kBankReadRows,
                       const sampling::GreedyCheckpoint& checkpoint = {});

}  // namespace tc::models
