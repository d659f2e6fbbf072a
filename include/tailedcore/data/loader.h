// Batches of decoded, transformed images, decoded ahead of the consumer by a
// small pool of threads (OpenCV only: LibTorch's threads stay with the model).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tailedcore/data/catalog.h"
#include "tailedcore/data/transforms.h"

namespace tc::data {

struct Batch {
  at::Tensor images;             // [B, 3, H, W] float32, normalised
  at::Tensor masks;              // [B, H, W] uint8 {0,1}; undefined unless with_masks
  std::vector<int64_t> indices;  // positions in the records given to the loader
};

class BatchLoader {
 public:
  /// Batches come in record order, up to batch_size images of one size each:
  /// a batch ends early before an image of another size (images kept at their
  /// own size). With masks, a good image gets an all-zero mask and a mask whose
  /// size differs from its image is an error naming both.
  BatchLoader(std::vector<ImageRecord> records, TransformOptions opts, int64_t batch_size,
              bool with_masks, int workers = 2);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// The next batch, std::nullopt at the end; a worker's decode error is
  /// rethrown here as tc::Error naming the file.
  std::optional<Batch> next();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tc::data
