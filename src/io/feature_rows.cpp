#include "tailedcore/io/feature_rows.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/finite.h"
#include "tailedcore/io/hdf5.h"

namespace tc::io {

std::string owner_of_row(const H5Reader& file, const std::string& dataset, int64_t row) {
  const std::string plain = "row " + std::to_string(row) + " of /" + dataset;
  if (!file.has("image_paths") || !file.has(dataset)) return plain;
  const auto paths = file.read_strings("image_paths");
  const int64_t rows = file.shape(dataset).at(0), n = static_cast<int64_t>(paths.size());
  int64_t image = -1;
  if (rows == n) {
    image = row;
  } else if (n > 0 && file.has("grids") && file.shape("grids") == std::vector<int64_t>{n, 2}) {
    // Images of several patch grids (mixed native sizes): h x w rows each.
    const auto hw = file.read("grids").to(torch::kInt64);
    const auto per = (hw.select(1, 0) * hw.select(1, 1)).cumsum(0);
    if (per[n - 1].item<int64_t>() == rows)
      image = torch::searchsorted(per, torch::tensor({row}), false, /*right=*/true).item<int64_t>();
  } else if (file.has_attr("feature_h") && file.has_attr("feature_w") &&
             rows == n * file.attr_int("feature_h") * file.attr_int("feature_w")) {
    image = row / (file.attr_int("feature_h") * file.attr_int("feature_w"));
  }
  if (image < 0 || image >= n) return plain;
  return "image " + paths[image] + " (" + plain + ")";
}

void check_finite_file_rows(const H5Reader& file, const std::string& dataset,
                            const at::Tensor& rows, int64_t first_row) {
  const int64_t bad = core::first_nonfinite_row(rows);
  TC_CHECK(
      bad < 0, file.path().string(), ": ", owner_of_row(file, dataset, first_row + bad),
      " has a NaN or Inf value: expected finite values; check the image and the backbone weights");
}

}  // namespace tc::io
