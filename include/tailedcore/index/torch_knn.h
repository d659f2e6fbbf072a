// Exact k-nearest-neighbour search as chunked matrix products and top-k on any
// LibTorch device: the GPU path of NearestNeighbors (IndexOptions::cuda_device);
// FAISS stays the CPU path. Distances are squared L2 in FAISS's expanded form,
// |q|^2 + |b|^2 - 2 q.b clamped at 0, so they agree with IndexFlatL2 to float
// rounding; among rows at exactly equal distance the order may differ.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "tailedcore/index/nearest.h"

namespace tc::index {

class TorchKnn {
 public:
  /// bank [m, d], any float dtype (converted to float32), copied to `device`
  /// once. k in [1, m]. budget_bytes bounds the per-chunk work buffers (the
  /// [chunk, m] distance block and the chunk's queries), not the bank.
  TorchKnn(const at::Tensor& bank, int64_t k, const c10::Device& device,
           int64_t budget_bytes = int64_t{1} << 30);

  /// queries [n, d] on any device -> host tensors: distances [n, k] float32
  /// ascending per row, indices [n, k] int64 bank rows.
  SearchResult search(const at::Tensor& queries) const;

  int64_t bank_rows() const { return bank_.size(0); }
  int64_t dim() const { return bank_.size(1); }
  int64_t k() const { return k_; }
  /// Queries per matrix product: as many as fit budget_bytes, at least 1.
  int64_t query_chunk() const { return chunk_; }

 private:
  at::Tensor bank_;     // [m, d] float32 on the device
  at::Tensor bank_sq_;  // [m] float32 squared norms, on the device
  int64_t k_ = 1, chunk_ = 1;
};

}  // namespace tc::index
