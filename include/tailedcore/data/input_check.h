// What a run can check about its data before the first stage (so a bad tree
// fails in a second, not after the training stages): every class has test
// images, and every mask has the size of its image (read from the file
// headers, no decoding).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tailedcore/data/transforms.h"

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
/// Whether the file starts as a PNG (signature and IHDR) or a JPEG (SOI and
/// segments up to a start-of-frame) does: the header only, no decoding.
bool has_image_header(const std::string& path);

/// root / rel for a path read from a file (nlt manifests, VisA's split CSV):
/// `rel` passes core::checked_relative_path (relative, no "." or ".." part),
/// the file exists and, with `image`, has a PNG or JPEG header
/// (has_image_header). The one rule of every tool that takes paths from a
/// file; errors name `where` (file:line).
std::filesystem::path source_file(const std::filesystem::path& root, const std::string& rel,
                                  const std::string& where, bool image);

/// (width, height) of `path` after `opts` (resize of the shorter side, then
/// the centre crop), from its header (image_size): load_image's size
/// without decoding.
std::pair<int, int> transformed_size(const std::string& path, const TransformOptions& opts);

/// The (width, height) every one of `paths` has (image_size: headers, no
/// decoding): a class's images kept at their own size (kFullSize) share one
/// patch grid only when equal. Otherwise one line naming the first image and
/// the first of another size, with both sizes; no paths is an error too.
std::pair<int, int> common_image_size(const std::vector<std::string>& paths);

/// Fails with one line naming the folder or file at fault: a class without
/// test images, a mask of another size than its image, masks whose values
/// are not 0/255 (the first mask of each class with a non-zero pixel is
/// decoded: it must have a 255, the only value the metrics take as a
/// defect). `native_size`: the
/// images keep their own size (no crop), so every image of a class, training
/// and test, must have one size (the class's test images are scored on its
/// grid); the error names two that differ. The pooled training set may mix
/// the classes' sizes.
void check_run_inputs(const Catalog& catalog, bool native_size = false);

}  // namespace tc::data
