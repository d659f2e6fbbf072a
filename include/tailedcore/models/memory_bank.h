// The memory bank a model scores against, and its HDF5 artifact (coreset.h5).
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

  int64_t rows() const { return features.defined() ? features.size(0) : 0; }
};

/// coreset.h5: /coreset [M, D], /coreset_indices int64 [M], /weights [M] when
/// present; attrs tail_rows, model.
void save_bank(const std::filesystem::path& path, const MemoryBank& bank, const std::string& model,
               const std::string& config_hash);
MemoryBank load_bank(const std::filesystem::path& path);

/// Concatenates a tail bank and a head bank, tail first (SPEC 5.1 step 4).
MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head);

/// The greedy coreset of `rows` as a bank; source_rows maps each bank row to
/// source_rows[chosen] (undefined: the chosen row index itself). Collective.
MemoryBank greedy_bank(const at::Tensor& rows, const at::Tensor& source_rows,
                       const sampling::CoresetOptions& opts, dist::Comm& comm);

/// The same bank from the [n, d] float32 dataset `dataset` of an HDF5 file,
/// without holding it at full width: rows are read `block_rows` at a time and
/// projected as read (the projection greedy_coreset applies, row for row), the
/// greedy runs on the projected rows, and a second read keeps only the chosen
/// rows. `subset` (ascending file rows, e.g. LOF's kept rows; undefined = all)
/// restricts the candidates; source_rows are file rows. With no projection
/// (proj_dim 0 or d) the candidate rows are read whole.
MemoryBank greedy_bank_from_file(const std::filesystem::path& path, const std::string& dataset,
                                 const sampling::CoresetOptions& opts, dist::Comm& comm,
                                 const at::Tensor& subset = {},
                                 int64_t block_rows = int64_t{1} << 16);

}  // namespace tc::models
