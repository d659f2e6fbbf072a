// Nearest-neighbour search over a memory bank (FAISS on CPU).
//
// Distances are SQUARED Euclidean, as FAISS IndexFlatL2 returns them and as
// the reference scores patches (SPEC 5.4): no square root anywhere.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "tailedcore/index/options.h"

namespace tc::index {

struct SearchResult {
  at::Tensor distances;  // [n, k] float32 squared L2, ascending per row
  at::Tensor indices;    // [n, k] int64 bank rows
};

class NearestNeighbors {
 public:
  /// bank [m, d] float32 (any float dtype is converted), host. k is clamped to m.
  NearestNeighbors(const at::Tensor& bank, const IndexOptions& opts);
  ~NearestNeighbors();
  NearestNeighbors(const NearestNeighbors&) = delete;
  NearestNeighbors& operator=(const NearestNeighbors&) = delete;

  /// queries [n, d], rows first_row.. of the whole query sequence. On the
  /// host every query is searched in the call of the kSearchRows queries its
  /// index falls in (zero queries standing in for the ones this call lacks):
  /// BLAS's bits depend on a product's shape and on a row's place in it, so
  /// this keeps a query's distances the same however ranks or blocks cut the
  /// queries. On a GPU, batches of opts.query_batch.
  SearchResult search(const at::Tensor& queries, int64_t first_row = 0) const;
  static constexpr int64_t kSearchRows = 1024;
  int64_t bank_rows() const;
  int64_t dim() const;
  int64_t k() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Recall@1 of the approximate index against exact search on `queries` (for
/// reporting what IVF costs); 1.0 for flat.
double recall_at_1(const at::Tensor& bank, const at::Tensor& queries, const IndexOptions& opts);

}  // namespace tc::index
