#include "tailedcore/models/scorer.h"

#include <torch/torch.h>

namespace tc::models {

at::Tensor Scorer::score(const Neighbours& nearest) const {
  if (!nearest.weights.defined()) return nearest.distances.mean(1);
  return (nearest.distances * nearest.weights).mean(1);
}

}  // namespace tc::models
