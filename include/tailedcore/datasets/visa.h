// VisA to MVTec layout from the official split CSV (SPEC 1.3).
#pragma once

#include <cstdint>
#include <filesystem>

namespace tc::datasets {

/// Rows "object,split,label,image,mask": label normal -> good, anything else
/// -> bad; the image goes to <dest>/<object>/<split>/<good|bad>/<basename>, a
/// mask to <dest>/<object>/ground_truth/bad/<stem>_mask.png BINARISED
/// (non-zero -> 255; the reference copies raw label values, which makes every
/// mask empty after its == 255 rule). Built under a temporary name, renamed at
/// the end. Every row is checked before anything is written, by the rule of
/// every tool that reads paths from a file (data::source_file): the object
/// is a folder name, the split train or test, image and mask relative paths
/// (no "..", not absolute) to PNG or JPEG files inside `source`, and no two
/// rows write one file. The CSV is RFC 4180 (core::parse_csv). Returns the
/// number of images written.
int64_t convert_visa(const std::filesystem::path& source, const std::filesystem::path& split_csv,
                     const std::filesystem::path& dest, bool force = false);

}  // namespace tc::datasets
