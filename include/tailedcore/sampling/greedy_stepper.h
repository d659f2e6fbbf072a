// One rank's greedy k-center steps: on its GPU (GreedyDeviceBlock: the rows
// uploaded once, one host round trip a step) when the options name one, else
// on the CPU with the state pruning needs (greedy_kernel.h,
// update_min_distances_pruned): the centres so far and each row's nearest
// one. A step first measures the new centre against the earlier ones, which
// costs (centres x d) and pays while that is well under a pass over the
// rows; past that point (more centres than a quarter of the rows: ratios
// above 1/4, or many ranks) it runs the plain pass. With at least
// kMinRotatedRows rows it also keeps them rotated onto their principal axes
// (RotatedRows: a second bound that reads 16 coordinates at a time; a copy of
// the rows). Both give the same bits,
// so the greedy loop (greedy_coreset) calls step()
// and never see which ran.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "tailedcore/sampling/coreset.h"

namespace tc::sampling {

class GreedyDeviceBlock;

class GreedyStepper {
 public:
  /// rows [n, d] (kept by the caller): this rank's rows of the greedy;
  /// cuda_device >= 0: run the steps on that GPU.
  GreedyStepper(const float* rows, int64_t n, int64_t d, int cuda_device = -1);
  ~GreedyStepper();
  /// One step for the next centre [d]: as update_min_distances on all rows
  /// (min_dist is the host copy's; on a GPU the device keeps its own).
  BlockMax step(const float* centre, float* min_dist, int threads);
  /// Percent of row visits that read the row (100 when nothing was pruned).
  double read_percent() const;

  /// The state a checkpoint keeps (greedy_checkpoint.h): each row's nearest
  /// centre as its step index (-1: none yet, or the state is not kept).
  /// False on a GPU: its min-distances stay on the device.
  bool can_checkpoint() const { return !device_; }
  void nearest_centres(int32_t* out) const;
  /// Puts the stepper where it was after `count` steps: `nearest` [rows] as
  /// nearest_centres() gave them, `centres` [count, d] the centres of those
  /// steps in order (read only while pruning). The caller restores min_dist.
  void restore(const int32_t* nearest, const float* centres, int64_t count);
  /// Whether restore() reads `centres` for `count` steps (else it may be empty).
  bool needs_centres(int64_t count) const { return !device_ && prunes_at(count); }

  /// Fewer rows are not rotated (the rotation and its copy cost more than
  /// they save); nor are rows of kFirstGroups coordinate groups or less.
  static constexpr int64_t kMinRotatedRows = 2048;
  /// Groups of 16 coordinates read eight rows at a time (RotatedRows::first).
  /// On the tail bank of greedy_kernel.h 25 % of the rows pass 16 coordinates,
  /// 12 % pass 32 and 2 % pass 64; its greedy took 16.7 s with 1 or 8 such
  /// groups, 9.6 s with 2 and 7.9 s with 4 (from 36.6 s unrotated).
  static constexpr int64_t kFirstGroups = 4;

 private:
  static constexpr int64_t kRotationSample = 65536;  // rows for the axes, and per chunk rotated
  bool prunes_at(int64_t count) const {
    return count * 4 <= rows_ && count < std::numeric_limits<int32_t>::max();
  }
  void rotate_rows();
  void drop_rotation();

  const float* data_;
  int64_t rows_, d_;
  std::unique_ptr<GreedyDeviceBlock> device_;
  std::vector<int32_t> assigned_;
  std::vector<float> centres_, centre_dist_;
  int64_t count_ = 0, read_ = 0, visited_ = 0;
  int64_t last_read_ = 0;  // rows the last step read (all of them before the first)
  bool pruning_ = true;
  std::vector<double> mean_, axes_;  // [d], [d, d] row-major (columns: the axes)
  // (rows - mean) axes in RotatedRows' layout; undefined: not rotated.
  at::Tensor rotated_first_, rotated_rest_;
  std::vector<float> rotated_centre_;  // [groups * 16]: this step's centre, rotated
  int64_t groups_ = 0, first_groups_ = 0;
  float abs_margin_ = 0.f;
};

}  // namespace tc::sampling
