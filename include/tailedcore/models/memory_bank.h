// The memory bank a model scores against, and how a greedy coreset fills it
// (its artifact, coreset.h5, is in pipeline/artifacts.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

namespace tc::dist {
class Comm;
}
namespace tc::sampling {
struct CoresetOptions;
}

namespace tc::models {

struct MemoryBank {
  at::Tensor features;     // [M, D] float32, host
  at::Tensor weights;      // [M] float32 per-row score weights (SoftPatch: LOF scores); undefined = 1
  at::Tensor source_rows;  // [M] int64: the row each bank row was chosen from (tail rows index the
                           // tail feature set, head rows the training features)
  int64_t tail_rows = 0;   // TailedCore: the first tail_rows rows come from the tail branch
  // The seeds of the greedy draws (projection and first centre) that chose the
  // head and tail rows; -1 = no such branch. Recorded in coreset.h5 so a run's
  // draws can be reproduced outside it (tests/bench/end_to_end.py does).
  int64_t greedy_seed = -1, tail_greedy_seed = -1;

  int64_t rows() const { return features.defined() ? features.size(0) : 0; }
};

/// Concatenates a tail bank and a head bank, tail first (SPEC 5.1 step 4).
MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head);

/// The greedy coreset bank of the candidate rows of `rows` [n, d]: `subset`
/// (ascending rows, e.g. LOF's kept rows; undefined = all). Candidates are
/// projected `block_rows` at a time (the projection greedy_coreset applies,
/// row for row), the greedy runs on the projected rows, and only the chosen
/// rows are gathered at full width: the candidates are never copied whole.
/// (With every row a candidate, greedy_coreset projects each rank's own rows.)
/// source_rows are rows of `rows`. Collective over comm.
MemoryBank greedy_bank(const at::Tensor& rows, const at::Tensor& subset,
                       const sampling::CoresetOptions& opts, dist::Comm& comm,
                       int64_t block_rows = int64_t{1} << 16);

/// The same bank from the [n, d] dataset `dataset` of an HDF5 file, read
/// block by block, so the rows are never held at full width.
MemoryBank greedy_bank_from_file(const std::filesystem::path& path, const std::string& dataset,
                                 const sampling::CoresetOptions& opts, dist::Comm& comm,
                                 const at::Tensor& subset = {},
                                 int64_t block_rows = int64_t{1} << 16);

}  // namespace tc::models
