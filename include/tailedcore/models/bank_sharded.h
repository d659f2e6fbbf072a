// The greedy memory bank from training rows sharded over ranks
// (DESIGN.md "Distribution"): what models::greedy_bank computes on the whole
// rows, with each rank holding only its block.
//
// Contract: collective over comm. `local` [b, D] float32 are the global rows
// [first_row, first_row + b) of this rank; blocks are contiguous, in rank
// order. `subset` (ascending global rows, e.g. LOF's kept rows; undefined =
// every row) is the same on every rank. Each rank projects only its own
// candidates (opts.proj_dim, opts.seed: the projection greedy_coreset
// applies), the greedy runs over the projected rows with one fused pick per
// step (sampling::greedy_coreset_sharded), and only the chosen rows cross
// ranks at full width, gathered so every rank holds the bank [M, D] in
// selection order. source_rows are global rows.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "tailedcore/models/memory_bank.h"

namespace tc::sampling {
struct GreedyShardStats;
}

namespace tc::models {

MemoryBank greedy_bank_sharded(const at::Tensor& local, int64_t first_row, const at::Tensor& subset,
                               const sampling::CoresetOptions& opts, dist::Comm& comm,
                               sampling::GreedyShardStats* stats = nullptr,
                               int64_t block_rows = int64_t{1} << 16);

}  // namespace tc::models
