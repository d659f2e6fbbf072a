#include "tailedcore/sampling/greedy_stepper.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tailedcore/sampling/greedy_device.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_team.h"

namespace tc::sampling {

namespace {

// [c, d] -> [c, groups * kRotatedGroup], zero-padded.
torch::Tensor pad_to_groups(const torch::Tensor& r, int64_t groups) {
  return torch::constant_pad_nd(r, {0, groups * kRotatedGroup - r.size(1)});
}

}  // namespace

GreedyStepper::GreedyStepper(const float* rows, int64_t n, int64_t d, int cuda_device)
    : data_(rows), rows_(n), d_(d), last_read_(n) {
  if (cuda_device >= 0 && n > 0) {
    device_ = std::make_unique<GreedyDeviceBlock>(rows, n, d, cuda_device);
    return;
  }
  assigned_.assign(static_cast<size_t>(n), -1);
  if (n >= kMinRotatedRows && d > kFirstGroups * kRotatedGroup) rotate_rows();
}

void GreedyStepper::rotate_rows() {
  torch::NoGradGuard ng;
  const auto x = torch::from_blob(const_cast<float*>(data_), {rows_, d_}, torch::kFloat32);
  // The principal axes of (a sample of) the rows: any orthonormal axes keep
  // the picks exact, these put most of a distance in the first coordinates.
  const int64_t stride = std::max<int64_t>(1, rows_ / kRotationSample);
  const auto sample = x.slice(0, 0, rows_, stride).to(torch::kFloat64);
  const auto mean = sample.mean(0);
  const auto centred = sample - mean;
  const auto [values, vectors] = torch::linalg_eigh(centred.t().mm(centred));
  const auto axes = vectors.flip({1}).contiguous();  // largest variance first
  mean_.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + d_);
  axes_.assign(axes.data_ptr<double>(), axes.data_ptr<double>() + d_ * d_);
  groups_ = (d_ + kRotatedGroup - 1) / kRotatedGroup;
  first_groups_ = std::min<int64_t>(kFirstGroups, groups_);
  rotated_centre_.assign(static_cast<size_t>(groups_ * kRotatedGroup), 0.f);  // the padding stays 0
  const int64_t first = first_groups_ * kRotatedGroup, blocks = (rows_ + 7) / 8;
  rotated_first_ = torch::zeros({blocks * 8, first}, torch::kFloat32);
  rotated_rest_ = torch::empty({groups_ - first_groups_, rows_, kRotatedGroup}, torch::kFloat32);
  double largest = 0;
  // In float64, then rounded once: a coordinate is off by half an ulp at most.
  for (int64_t s = 0; s < rows_; s += kRotationSample) {
    const int64_t c = std::min(kRotationSample, rows_ - s);
    const auto r = pad_to_groups((x.narrow(0, s, c).to(torch::kFloat64) - mean).mm(axes), groups_);
    largest = std::max(largest, r.norm(2, 1).max().item<double>());
    rotated_first_.narrow(0, s, c).copy_(r.narrow(1, 0, first));
    rotated_rest_.narrow(1, s, c).copy_(
        r.narrow(1, first, (groups_ - first_groups_) * kRotatedGroup)
            .view({c, groups_ - first_groups_, kRotatedGroup})
            .permute({1, 0, 2}));
  }
  // Eight rows a block, coordinate-major within it (RotatedRows::first).
  rotated_first_ = rotated_first_.view({blocks, 8, first}).permute({0, 2, 1}).contiguous();
  abs_margin_ = static_cast<float>(1e-6 * largest);
}

void GreedyStepper::drop_rotation() {
  rotated_first_ = at::Tensor();
  rotated_rest_ = at::Tensor();
  rotated_centre_ = {};
}

GreedyStepper::~GreedyStepper() = default;

BlockMax GreedyStepper::step(const float* centre, float* min_dist, int threads) {
  const float* rows = data_;
  if (device_) {
    const DeviceBlockMax dm = device_->update(centre);
    visited_ += rows_;
    read_ += rows_;
    return {dm.value, dm.index};
  }
  pruning_ = pruning_ && prunes_at(count_);
  BlockMax bm;
  if (pruning_) {
    centre_dist_.resize(static_cast<size_t>(count_));
    centre_distances(centres_.data(), count_, d_, centre, centre_dist_.data());
    centres_.insert(centres_.end(), centre, centre + d_);
    // A team only when the last step read enough rows to be worth waking it:
    // once most rows are pruned a step is tens of microseconds, less than a
    // wake-up, and on a loaded machine a team waits for its descheduled thread.
    if (last_read_ * d_ < GreedyTeam::kMinParallelWork) threads = 1;
    int64_t read = 0;
    RotatedRows rotated;
    const bool rotating = rotated_first_.defined();
    if (rotating) {
      // (centre - mean) axes in float64, as the rows were; a plain loop (d x d
      // multiply-adds), no tensors on the per-step path.
      for (int64_t j = 0; j < d_; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < d_; ++k) acc += (centre[k] - mean_[k]) * axes_[k * d_ + j];
        rotated_centre_[j] = static_cast<float>(acc);
      }
      rotated = {rotated_first_.data_ptr<float>(), first_groups_,
                 rotated_rest_.data_ptr<float>(),  groups_,
                 rotated_centre_.data(),           abs_margin_};
    }
    bm = update_min_distances_pruned(rows, rows_, d_, centre, min_dist, assigned_.data(),
                                     centre_dist_.data(), static_cast<int32_t>(count_), threads,
                                     &read, rotating ? &rotated : nullptr);
    read_ += read;
    last_read_ = read;
  } else {
    if (!centres_.empty()) {  // the state is no longer kept
      centres_ = {};
      centre_dist_ = {};
      assigned_ = {};
      drop_rotation();
    }
    bm = update_min_distances(rows, rows_, d_, centre, min_dist, threads);
    read_ += rows_;
  }
  visited_ += rows_;
  ++count_;
  return bm;
}

void GreedyStepper::nearest_centres(int32_t* out) const {
  if (pruning_ && !assigned_.empty())
    std::copy(assigned_.begin(), assigned_.end(), out);
  else
    std::fill(out, out + rows_, -1);
}

void GreedyStepper::restore(const int32_t* nearest, const float* centres, int64_t count) {
  count_ = count;
  last_read_ = rows_;
  pruning_ = prunes_at(count);
  if (!pruning_) {
    centres_ = {};
    assigned_ = {};
    drop_rotation();
    return;
  }
  // Rows whose nearest centre is unknown (-1) are read until one comes closer:
  // exact either way, the bound only skips work.
  assigned_.assign(nearest, nearest + rows_);
  centres_.assign(centres, centres + count * d_);
}

double GreedyStepper::read_percent() const {
  return visited_ > 0 ? 100.0 * static_cast<double>(read_) / static_cast<double>(visited_) : 100.0;
}

}  // namespace tc::sampling
