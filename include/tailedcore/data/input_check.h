// What a run can check about its data before the first stage (so a bad tree
// fails in a second, not after the training stages): every class has test
// images, and every mask has the size of its image (read from the file
// headers, no decoding).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tc::data {

class Catalog;

/// (width, height) of an image file: from the header for PNG and JPEG, else by
/// decoding. Fails with one line naming the file when it cannot be read.
std::pair<int, int> image_size(const std::string& path);

/// The most pixels an image may have (2^28, 16384 x 16384): a larger one is
/// refused before it is decoded (a 30000 x 30000 PNG would take 2.7 GB).
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;
/// Fails with one line naming the file when its PNG/JPEG header declares more
/// than kMaxImagePixels; other formats and unreadable headers pass (the
/// decoder reports those).
void check_image_pixels(const std::string& path);

/// The (width, height) every one of `paths` has (image_size: headers, no
/// decoding): images kept at their own size (kFullSize) batch and share one
/// patch grid only when equal. Otherwise one line naming the first image and
/// the first of another size, with both sizes; no paths is an error too.
std::pair<int, int> common_image_size(const std::vector<std::string>& paths);

/// Fails with one line naming the folder or file at fault. `native_size`: the
/// images keep their own size (no crop), so every image of a class, and every
/// training image of the pooled set (one patch grid for LOF's positions),
/// must have one size; the error names two that differ.
void check_run_inputs(const Catalog& catalog, bool native_size = false);

}  // namespace tc::data
