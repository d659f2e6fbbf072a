// Non-finite values (NaN, Inf) where data enters a stage: features,
// embeddings and scores are checked once on entry, so no later loop can spin
// on a NaN and no NaN row can take over a coreset (DESIGN.md "Non-finite values").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace at {
class Tensor;
}

namespace tc::core {

/// The first index along dim 0 whose slice holds a NaN or an Inf; -1 when
/// every value is finite (integer tensors are always finite). Reads in
/// blocks: no full-size mask is allocated.
int64_t first_nonfinite_row(const at::Tensor& rows);

/// Fails with one line "<what>: <item_name(row / rows_per_item)> has a NaN or
/// Inf value (row R)" when a row of `rows` is not finite. rows_per_item groups
/// rows into items (h*w patch rows per image; 1 for one row per image).
void check_finite_rows(const at::Tensor& rows, int64_t rows_per_item,
                       const std::function<std::string(int64_t)>& item_name,
                       const std::string& what);

}  // namespace tc::core
