#include "tailedcore/models/scorer.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"

namespace tc::models {

Scorer::Scorer(MemoryBank bank, const index::IndexOptions& opts)
    : bank_(std::move(bank)),
      nn_(std::make_unique<index::NearestNeighbors>(bank_.features, opts)) {}

at::Tensor Scorer::score_patches(const at::Tensor& patches, int64_t first_row) const {
  const auto found = nn_->search(patches, first_row);
  torch::Tensor d = found.distances;  // [n, k] squared L2
  if (bank_.weights.defined())
    d = d * bank_.weights.index_select(0, found.indices.flatten()).view_as(d);
  return d.mean(1);
}

}  // namespace tc::models
