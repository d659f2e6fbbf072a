// The one place where FAISS version differences live: FAISS 1.7.3 (Debian 12)
// declares the index type as faiss::Index::idx_t, newer releases as faiss::idx_t.
#pragma once

#include <faiss/Index.h>

namespace tc::index {

#if FAISS_VERSION_MAJOR > 1 || (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR >= 8) || \
    (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH >= 4)
using faiss_idx_t = faiss::idx_t;
#else
using faiss_idx_t = faiss::Index::idx_t;
#endif

}  // namespace tc::index
