// One rank's exact greedy k-center steps on the CPU, reading only the rows
// that a new centre can take: each centre keeps its cell (this rank's rows
// whose nearest centre it is) and the cell's radius (their largest
// min-distance), so that the step's cost follows the cells near the new
// centre, not the rows nor the centres.
//
// The bound: a row y of centre j's cell, at min-distance m_y from j, is at
// least d(j, c) - m_y from a new centre c, so it cannot come closer when
// d(j, c) > 2 m_y; no row of the cell can when d(j, c) > 2 r_j (r_j the
// cell's radius). The centres that pass are found without measuring every
// one of them: the first kLeaders centres lead groups, every later centre
// joins the group of its nearest leader (at distance s_j), and
// d(j, c) >= d(leader, c) - s_j rules out a member, and a whole group once
// d(leader, c) exceeds its members' largest s_j + 2 r_j. So a step measures
// the new centre against the leaders, tests the members of the groups that
// pass with two numbers each, measures the members that pass, and reads, in
// each cell that passes (kept farthest first), the prefix of rows with
// d(j, c) <= 2 m_y: the rows that may come closer. Every bound carries a
// margin far above float32 rounding (0.1 %); rows read get the torch-order
// distance (greedy_kernel.h), so min-distances and picks are bit-identical
// to a pass over every row. The rank's farthest row is kept in a tournament
// tree over the cells' (radius, first row at it), so the arg-max costs
// log(centres) per cell that changed.
//
// Sharding: the centres are the same on every rank (each pick carries its
// row); cells, radii and the tree hold this rank's rows only.
#pragma once

#include <cstdint>
#include <vector>

#include "tailedcore/sampling/coreset.h"

namespace tc::sampling {

/// What the steps so far cost, on this rank.
struct GreedyVisits {
  int64_t steps = 0;
  int64_t rows_visited = 0;      // rows whose min-distance a step tested
  int64_t rows_read = 0;         // rows whose distance to the new centre was computed
  int64_t centres_measured = 0;  // centre-to-centre distances (leaders and members that pass)
  int64_t members_tested = 0;    // group members tested by their two numbers
};

class GreedyCells {
 public:
  /// rows [n, d] float32 row-major, host, kept by the caller for the
  /// object's life.
  GreedyCells(const float* rows, int64_t n, int64_t d);

  /// The step for the next centre [d] (its index: the number of steps so
  /// far): min_dist[i] = min(min_dist[i], ||rows[i] - centre||) and the
  /// farthest row, as update_min_distances_torch_order on all rows (bit for
  /// bit). `threads` is the OpenMP team of a step that reads every row (the
  /// first); the others run on the calling thread.
  BlockMax step(const float* centre, float* min_dist, int threads);

  /// Each row's nearest centre as its step index (-1: none yet).
  const std::vector<int32_t>& nearest() const { return assigned_; }
  /// The state after `count` steps: nearest [rows] as nearest() gave them
  /// (-1: unknown, such rows are read every step until a centre comes
  /// closer), centres [count, d] in step order, min_dist [rows] as they were.
  void restore(const int32_t* nearest, const float* centres, int64_t count, const float* min_dist);

  const GreedyVisits& visits() const { return visits_; }

  /// Centres that lead groups. A step measures min(steps, kLeaders) of them.
  static constexpr int64_t kLeaders = 512;

 private:
  struct Best {
    float value;
    int64_t row;
  };
  void add_centre(const float* centre, const float* min_dist);
  void scan_cell(int64_t j, float centre_dist, const float* centre, float* min_dist, int32_t k);
  void scan_unassigned(const float* centre, float* min_dist, int32_t k);
  /// Reads `rows` [n] against centre k: the rows that come closer move to it
  /// (min_dist, assigned_, moved_), the others stay at the front of `rows` in
  /// their order. Returns how many stay.
  size_t take_closer(int32_t* rows, size_t n, const float* centre, float* min_dist, int32_t k);
  void set_cell(int64_t j, const float* min_dist);
  void sort_cell(int64_t j, const float* min_dist);
  void grow_tree(int64_t slots);
  void update_tree(int64_t slot);
  float group_bound(int64_t g) const;

  const float* data_;
  int64_t rows_, d_, count_ = 0;
  std::vector<int32_t> assigned_;
  std::vector<float> centres_;                 // [count, d]
  std::vector<std::vector<int32_t>> cells_;    // [count]: rows, farthest first (then lower row)
  std::vector<float> radius_;                  // [count]: -inf for an empty cell
  std::vector<int64_t> far_;                   // [count]: the cell's first row at its radius
  std::vector<float> to_leader_;               // [count]: distance to its group's leader
  std::vector<std::vector<int32_t>> members_;  // [leaders]: centres of each group
  std::vector<float> bound_;                   // [leaders]: max over members of s + 2 r, margined
  std::vector<int32_t> unassigned_;            // rows read every step (after restore)
  std::vector<Best> tree_;                     // [2 * slots]: leaves from slots
  int64_t slots_ = 0;
  // Scratch of a step.
  std::vector<float> leader_dist_, dist_;
  std::vector<int32_t> read_, moved_;
  GreedyVisits visits_;
};

}  // namespace tc::sampling
