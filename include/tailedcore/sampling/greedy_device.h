// The greedy coreset step on a GPU (the CUDA twin of update_min_distances in
// coreset.h): a block of projected rows lives on the device with its running
// minimum distances; each step reads a centre on the device and writes the
// block's farthest row as a packed candidate on the device (update_packed:
// two kernels on LibTorch's default stream, no host wait; greedy_coreset
// chains it with dist::max_loc_packed, greedy_device_loop.h). Same rule as the CPU path:
// min_dist[i] = min(min_dist[i],
// ||rows[i] - centre||_2), then the largest min_dist, the first of equals.
// Distances are summed in a different order than on the CPU, so values agree
// to float rounding (about 1e-6 relative), not bit for bit.
//
// Built only with CUDA (TAILEDCORE_WITH_CUDA); otherwise the constructor
// throws "built without CUDA". Not thread-safe; one object per rank.
#pragma once

#include <cstdint>
#include <memory>

namespace tc::sampling {

struct DeviceBlockMax {
  float value;    // the block's largest min-distance (-inf for an empty block)
  int64_t index;  // its row within the block; -1 for an empty block
};

class GreedyDeviceBlock {
 public:
  /// rows: [b, d] float32, row-major, host; copied to `device` (a CUDA ordinal).
  /// Min-distances start at +inf.
  GreedyDeviceBlock(const float* rows, int64_t b, int64_t d, int device);
  ~GreedyDeviceBlock();
  GreedyDeviceBlock(const GreedyDeviceBlock&) = delete;
  GreedyDeviceBlock& operator=(const GreedyDeviceBlock&) = delete;

  /// centre: [d] float32 on the device. Updates the min-distances and writes
  /// the block's farthest row to `packed` ([4 + d] int32 on the device,
  /// dist::pack_candidate's layout, index begin + row). Queued, no host wait.
  void update_packed(const float* centre, int64_t begin, int32_t* packed);
  /// centre: [d] float32, host. update_packed with one host round trip (the
  /// upload, the download, a wait), for tests and the benchmark.
  DeviceBlockMax update(const float* centre);
  /// Copies the current min-distances, [b] float32, to host memory `out`.
  void min_distances(float* out) const;

  int64_t rows() const;
  int64_t dim() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tc::sampling
