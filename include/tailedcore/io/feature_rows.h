// Which image a row of a features file belongs to, for error messages: rows
// of /features are h*w patch rows per image and rows of /embeddings one per
// image, in the order of /image_paths (DESIGN.md "Artifacts").
#pragma once

#include <cstdint>
#include <string>

namespace at {
class Tensor;
}

namespace tc::io {

class H5Reader;

/// "image <path>" when `dataset` of `file` has one row (or feature_h *
/// feature_w rows) per entry of /image_paths; else "row <row> of /<dataset>".
std::string owner_of_row(const H5Reader& file, const std::string& dataset, int64_t row);

/// Fails with one line naming the file and the image when `rows` (rows
/// [first_row, first_row + rows.size(0)) of `dataset`) hold a NaN or Inf.
void check_finite_file_rows(const H5Reader& file, const std::string& dataset,
                            const at::Tensor& rows, int64_t first_row = 0);

}  // namespace tc::io
