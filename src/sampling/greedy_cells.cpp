#include "tailedcore/sampling/greedy_cells.h"

#include <algorithm>
#include <limits>

#include "tailedcore/core/check.h"
#include "tailedcore/sampling/greedy_kernel.h"

namespace tc::sampling {

namespace {

// 2 (1 + 1e-3): the margin of a bound on a computed centre distance covers
// float32 rounding (relative error ~1e-6 at d = 128) many times over.
constexpr float kPruneFactor = 2.0f * (1.0f + 1e-3f);
// Relative error allowed on each computed distance of the leader bound.
constexpr float kLeaderSlack = 1e-4f;
constexpr float kNone = -std::numeric_limits<float>::infinity();
constexpr int64_t kNoRow = std::numeric_limits<int64_t>::max();

// The larger value, then the lower row: the first of equal maxima.
inline bool better(float v, int64_t row, float best_v, int64_t best_row) {
  return v > best_v || (v == best_v && row < best_row);
}

}  // namespace

GreedyCells::GreedyCells(const float* rows, int64_t n, int64_t d)
    : data_(rows), rows_(n), d_(d), assigned_(static_cast<size_t>(n), -1) {
  TC_CHECK(n < std::numeric_limits<int32_t>::max(), "greedy: ", n,
           " rows on one rank; expected fewer than 2^31 (use more ranks)");
  unassigned_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) unassigned_[i] = static_cast<int32_t>(i);
}

float GreedyCells::group_bound(int64_t g) const {
  float b = kNone;
  for (const int32_t j : members_[g])
    if (radius_[j] != kNone)
      b = std::max(b, to_leader_[j] * (1 + kLeaderSlack) + kPruneFactor * radius_[j]);
  return b;
}

void GreedyCells::set_cell(int64_t j, const float* min_dist) {
  auto& cell = cells_[j];
  if (cell.empty()) {
    radius_[j] = kNone;
    far_[j] = kNoRow;
    return;
  }
  radius_[j] = min_dist[cell.front()];
  far_[j] = cell.front();
}

void GreedyCells::sort_cell(int64_t j, const float* min_dist) {
  std::sort(cells_[j].begin(), cells_[j].end(),
            [&](int32_t a, int32_t b) { return better(min_dist[a], a, min_dist[b], b); });
}

void GreedyCells::grow_tree(int64_t slots) {
  int64_t s = 64;
  while (s < slots) s *= 2;
  slots_ = s;
  tree_.assign(static_cast<size_t>(2 * s), Best{kNone, kNoRow});
  for (int64_t j = 0; j < static_cast<int64_t>(radius_.size()); ++j)
    tree_[s + j] = {radius_[j], far_[j]};
  for (int64_t i = s - 1; i >= 1; --i) {
    const Best& a = tree_[2 * i];
    const Best& b = tree_[2 * i + 1];
    tree_[i] = better(b.value, b.row, a.value, a.row) ? b : a;
  }
}

void GreedyCells::update_tree(int64_t slot) {
  int64_t i = slots_ + slot;
  tree_[i] = {radius_[slot], far_[slot]};
  for (i /= 2; i >= 1; i /= 2) {
    const Best& a = tree_[2 * i];
    const Best& b = tree_[2 * i + 1];
    tree_[i] = better(b.value, b.row, a.value, a.row) ? b : a;
  }
}

void GreedyCells::scan_cell(int64_t j, float centre_dist, const float* centre, float* min_dist,
                            int32_t k) {
  // The cell is in falling min-distance: the rows that can come closer are a prefix.
  auto& cell = cells_[j];
  size_t p = 0;
  while (p < cell.size() && !(centre_dist > kPruneFactor * min_dist[cell[p]])) ++p;
  if (p == 0) return;
  // The rows that stay keep their min-distance: the order holds.
  const size_t kept = take_closer(cell.data(), p, centre, min_dist, k);
  if (kept == p) return;
  cell.erase(cell.begin() + static_cast<std::ptrdiff_t>(kept),
             cell.begin() + static_cast<std::ptrdiff_t>(p));
  set_cell(j, min_dist);
  update_tree(j);
}

void GreedyCells::scan_unassigned(const float* centre, float* min_dist, int32_t k) {
  unassigned_.resize(take_closer(unassigned_.data(), unassigned_.size(), centre, min_dist, k));
}

size_t GreedyCells::take_closer(int32_t* rows, size_t n, const float* centre, float* min_dist,
                                int32_t k) {
  visits_.rows_visited += static_cast<int64_t>(n);
  visits_.rows_read += static_cast<int64_t>(n);
  dist_.resize(n);
  distances_torch_order(data_, d_, rows, static_cast<int64_t>(n), centre, dist_.data());
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t y = rows[i];
    if (dist_[i] < min_dist[y]) {
      min_dist[y] = dist_[i];
      assigned_[y] = k;
      moved_.push_back(y);
    } else {
      rows[kept++] = y;
    }
  }
  return kept;
}

void GreedyCells::add_centre(const float* centre, const float* min_dist) {
  const int64_t k = count_;
  centres_.insert(centres_.end(), centre, centre + d_);
  cells_.emplace_back(moved_);
  radius_.push_back(kNone);
  far_.push_back(kNoRow);
  sort_cell(k, min_dist);
  set_cell(k, min_dist);
  int64_t g = k;
  if (k < kLeaders) {
    members_.push_back({static_cast<int32_t>(k)});
    to_leader_.push_back(0.f);
    bound_.push_back(kNone);
  } else {
    g = std::min_element(leader_dist_.begin(), leader_dist_.end()) - leader_dist_.begin();
    members_[g].push_back(static_cast<int32_t>(k));
    to_leader_.push_back(leader_dist_[g]);
  }
  if (radius_[k] != kNone)
    bound_[g] = std::max(bound_[g], to_leader_[k] * (1 + kLeaderSlack) + kPruneFactor * radius_[k]);
  ++count_;
  if (count_ > slots_)
    grow_tree(count_);
  else
    update_tree(k);
}

BlockMax GreedyCells::step(const float* centre, float* min_dist, int threads) {
  const int32_t k = static_cast<int32_t>(count_);
  TC_CHECK(count_ < std::numeric_limits<int32_t>::max(), "greedy: step ", count_,
           ": expected fewer than 2^31 centres");
  ++visits_.steps;
  moved_.clear();
  const int64_t leaders = std::min(count_, kLeaders);
  leader_dist_.resize(static_cast<size_t>(leaders));
  for (int64_t g = 0; g < leaders; ++g)
    leader_dist_[g] = distance_torch_order(centres_.data() + g * d_, centre, d_);
  visits_.centres_measured += leaders;
  for (int64_t g = 0; g < leaders; ++g) {
    const float dl = leader_dist_[g];
    if (dl * (1 - kLeaderSlack) > bound_[g]) continue;
    for (const int32_t j : members_[g]) {
      const float r = radius_[j];
      if (r == kNone) continue;
      ++visits_.members_tested;
      // d(j, c) >= |d(leader, c) - d(leader, j)|, each computed to kLeaderSlack.
      const float s = to_leader_[j];
      const float lower = std::max(dl * (1 - kLeaderSlack) - s * (1 + kLeaderSlack),
                                   s * (1 - kLeaderSlack) - dl * (1 + kLeaderSlack));
      if (lower > kPruneFactor * r) continue;
      float dc = dl;
      if (j != g) {
        dc = distance_torch_order(centres_.data() + static_cast<int64_t>(j) * d_, centre, d_);
        ++visits_.centres_measured;
      }
      if (dc > kPruneFactor * r) continue;
      scan_cell(j, dc, centre, min_dist, k);
    }
    bound_[g] = group_bound(g);
  }
  if (!unassigned_.empty()) {
    if (static_cast<int64_t>(unassigned_.size()) == rows_) {
      // Every row (the first step): one pass, on the team.
      std::vector<float> before(min_dist, min_dist + rows_);
      update_min_distances_torch_order(data_, rows_, d_, centre, min_dist, threads);
      visits_.rows_visited += rows_;
      visits_.rows_read += rows_;
      size_t kept = 0;
      for (int64_t y = 0; y < rows_; ++y) {
        if (min_dist[y] < before[y]) {
          assigned_[y] = k;
          moved_.push_back(static_cast<int32_t>(y));
        } else {
          unassigned_[kept++] = static_cast<int32_t>(y);
        }
      }
      unassigned_.resize(kept);
    } else {
      scan_unassigned(centre, min_dist, k);
    }
  }
  add_centre(centre, min_dist);
  if (rows_ == 0) return {kNone, -1};
  Best best = tree_[1];
  for (const int32_t y : unassigned_)
    if (better(min_dist[y], y, best.value, best.row)) best = {min_dist[y], y};
  return {best.value, best.row};
}

void GreedyCells::restore(const int32_t* nearest, const float* centres, int64_t count,
                          const float* min_dist) {
  count_ = count;
  centres_.assign(centres, centres + count * d_);
  cells_.assign(static_cast<size_t>(count), {});
  unassigned_.clear();
  for (int64_t y = 0; y < rows_; ++y) {
    const int32_t j = nearest[y];
    assigned_[y] = j >= 0 && j < count ? j : -1;
    if (assigned_[y] >= 0)
      cells_[j].push_back(static_cast<int32_t>(y));
    else
      unassigned_.push_back(static_cast<int32_t>(y));
  }
  radius_.assign(static_cast<size_t>(count), kNone);
  far_.assign(static_cast<size_t>(count), kNoRow);
  for (int64_t j = 0; j < count; ++j) {
    sort_cell(j, min_dist);
    set_cell(j, min_dist);
  }
  // The groups as the steps built them: the same distances, the same leaders.
  const int64_t leaders = std::min(count, kLeaders);
  members_.assign(static_cast<size_t>(leaders), {});
  to_leader_.assign(static_cast<size_t>(count), 0.f);
  for (int64_t g = 0; g < leaders; ++g) members_[g].push_back(static_cast<int32_t>(g));
  std::vector<float> dl(static_cast<size_t>(leaders));
  for (int64_t j = leaders; j < count; ++j) {
    for (int64_t g = 0; g < leaders; ++g)
      dl[g] = distance_torch_order(centres_.data() + g * d_, centres_.data() + j * d_, d_);
    const int64_t g = std::min_element(dl.begin(), dl.end()) - dl.begin();
    members_[g].push_back(static_cast<int32_t>(j));
    to_leader_[j] = dl[g];
  }
  bound_.assign(static_cast<size_t>(leaders), kNone);
  for (int64_t g = 0; g < leaders; ++g) bound_[g] = group_bound(g);
  grow_tree(count);
}

}  // namespace tc::sampling
