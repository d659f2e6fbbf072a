// How MpiComm splits a long transfer under MPI's int counts (private to tc::dist).
#pragma once

#include <algorithm>
#include <cstdint>

namespace tc::dist::detail {

/// Calls f(offset, count) for the consecutive pieces [offset, offset + count)
/// of n elements, each at most `limit` (1 <= limit <= INT_MAX) long, in order;
/// never for n == 0.
template <class F>
void for_each_chunk(int64_t n, int64_t limit, F&& f) {
  for (int64_t offset = 0; offset < n; offset += limit)
    f(offset, static_cast<int>(std::min(limit, n - offset)));
}

}  // namespace tc::dist::detail
