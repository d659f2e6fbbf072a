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
  int64_t per_image = 0;
  if (rows == n) per_image = 1;
  else if (file.has_attr("feature_h") && file.has_attr("feature_w") &&
           rows == n * file.attr_int("feature_h") * file.attr_int("feature_w"))
    per_image = file.attr_int("feature_h") * file.attr_int("feature_w");
  if (per_image == 0 || row / per_image >= n) return plain;
  return "image " + paths[row / per_image] + " (" + plain + ")";
}

void check_finite_file_rows(const H5Reader& file, const std::string& dataset, const at::Tensor& rows,
                            int64_t first_row) {
  const int64_t bad = core::first_nonfinite_row(rows);
  TC_CHECK(bad < 0, file.path().string(), ": ", owner_of_row(file, dataset, first_row + bad),
           " has a NaN or Inf value: expected finite values; check the image and the backbone weights");
}

}  // namespace tc::io
