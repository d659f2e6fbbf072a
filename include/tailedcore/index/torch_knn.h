// Exact k-nearest-neighbour search as blocked matrix products on any LibTorch
// device: the GPU path of NearestNeighbors (IndexOptions::cuda_device); FAISS
// stays the CPU path. Distances are squared L2 in FAISS's expanded form,
// |q|^2 + |b|^2 - 2 q.b clamped at 0, so they agree with IndexFlatL2 to float
// rounding; among rows at exactly equal distance the order may differ.
//
// Memory: one budget (KnnOptions::budget_bytes) holds the bank when it fits in
// half of it (uploaded once), else bank blocks of that half streamed from the
// host for every query chunk; the rest sizes the query chunk (its rows, the
// [chunk, block] distance block and the running k best). k = 1 takes `min`
// per block, k > 1 `topk`, merged across blocks with the lower block first.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

#include "tailedcore/index/nearest.h"

namespace tc::index {

struct KnnOptions {
  /// Bytes for the bank (when resident) and the work buffers. 0: half the
  /// device's free memory when the search is built (CUDA), 1 GiB on the CPU.
  int64_t budget_bytes = 0;
  /// TF32 matrix products on CUDA (the q.b term with a 10-bit mantissa):
  /// faster on the tensor cores, with an AUROC cost that only a GPU run can
  /// measure (results/bench/gpu/); off until that is measured. No effect on the CPU.
  bool tf32 = false;
};

class TorchKnn {
 public:
  /// bank [m, d], any float dtype (converted to float32). k in [1, m].
  TorchKnn(const at::Tensor& bank, int64_t k, const c10::Device& device,
           const KnnOptions& opts = {});

  /// queries [n, d] on any device -> host tensors: distances [n, k] float32
  /// ascending per row, indices [n, k] int64 bank rows.
  SearchResult search(const at::Tensor& queries) const;

  int64_t bank_rows() const { return rows_; }
  int64_t dim() const { return dim_; }
  int64_t k() const { return k_; }
  /// Queries per matrix product: as many as the budget leaves room for, at least 1.
  int64_t query_chunk() const { return chunk_; }
  /// Bank rows per matrix product: all of them when the bank is resident.
  int64_t bank_block() const { return block_; }
  bool bank_resident() const { return block_ == rows_; }

 private:
  at::Tensor bank_;     // [m, d] float32: on the device when resident, else on the host
  at::Tensor bank_sq_;  // [m] float32 squared norms, beside bank_
  c10::Device device_;
  int64_t rows_ = 0, dim_ = 0, k_ = 1, chunk_ = 1, block_ = 1;
  bool tf32_ = false;
};

}  // namespace tc::index
