#include "tailedcore/core/finite.h"

#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"

namespace tc::core {

int64_t first_nonfinite_row(const at::Tensor& rows) {
  if (!rows.defined() || rows.numel() == 0 || !rows.is_floating_point()) return -1;
  const auto flat = rows.dim() == 1 ? rows.unsqueeze(1) : rows.reshape({rows.size(0), -1});
  // About 16 M values per block: the bool mask stays small at any scale.
  const int64_t width = std::max<int64_t>(1, flat.size(1));
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 24) / width);
  for (int64_t s = 0; s < flat.size(0); s += block) {
    const auto part = flat.narrow(0, s, std::min(block, flat.size(0) - s));
    const auto bad = torch::isfinite(part).all(1).logical_not();
    if (bad.any().item<bool>()) return s + bad.nonzero()[0][0].item<int64_t>();
  }
  return -1;
}

void check_finite_rows(const at::Tensor& rows, int64_t rows_per_item,
                       const std::function<std::string(int64_t)>& item_name,
                       const std::string& what) {
  const int64_t r = first_nonfinite_row(rows);
  if (r < 0) return;
  const int64_t per = std::max<int64_t>(1, rows_per_item);
  TC_FAIL(what, ": ", item_name(r / per), " has a NaN or Inf value (row ", r,
          "): expected finite values; check the image and the backbone weights");
}

}  // namespace tc::core
