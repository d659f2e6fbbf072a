// The search's options, apart from the index so that the config
// (exp/config.h) takes its defaults from them without LibTorch's headers.
#pragma once

#include <cstdint>
#include <string>

#include "tailedcore/core/names.h"

namespace tc::index {

/// flat: exact; ivf: approximate, for banks too large for exact search.
enum class IndexType { kFlat, kIvf };
/// "flat", "ivf" (config model.index).
const core::NameTable<IndexType>& index_types();

struct IndexOptions {
  IndexType type = IndexType::kFlat;
  int64_t k = 1;                // neighbours per query (config faiss_k_neighbor)
  int64_t ivf_lists = 0;        // IVF cells; 0 = about 4 * sqrt(bank rows)
  int64_t ivf_probe = 8;        // cells visited per query
  int64_t query_batch = 16384;  // queries searched at once (bounds the distance buffers)
  uint64_t seed = 0;            // IVF k-means training seed
  /// CUDA ordinal: flat search runs as chunked matrix products and top-k on
  /// that GPU (index/torch_knn.h) instead of FAISS; -1 = FAISS on the host.
  int cuda_device = -1;
  /// TF32 products in that GPU search (index/torch_knn.h KnnOptions::tf32): off, unmeasured.
  bool tf32 = false;
  /// The one range check of these options, naming each by its config key
  /// after `prefix` ("c: model.", or "" where a library call checks its
  /// arguments).
  void validate(const std::string& prefix) const;
};

}  // namespace tc::index
