// The memory bank a model scores against, and its HDF5 artifact (coreset.h5).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

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

}  // namespace tc::models
