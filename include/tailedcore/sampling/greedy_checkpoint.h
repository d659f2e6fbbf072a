// The greedy's state on disk, so that a preempted or killed run resumes where
// its last checkpoint was (at full resolution the greedy runs for hours on
// clusters whose jobs are preempted and requeued).
//
// Each rank writes its own file <prefix>.rank-<r>-of-<R>.ckpt, atomically
// (temporary name, fsync, rename): the picks so far (global positions, in
// selection order), and for each of its rows the min-distance and the step of
// its nearest centre (the pruning bound's state). A file records the greedy it
// belongs to (key, rows, width, centres), the rank's first row and a checksum.
// A rerun with any rank count reads, from the newest complete set of files of
// the same greedy, the part of each file that covers its own rows; the
// centres' rows come from their owners. The picks then continue exactly as an
// uninterrupted run's.
//
// Contract: collective over comm where stated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct GreedyCheckpoint {
  std::filesystem::path prefix;  // files <prefix>.rank-<r>-of-<R>.ckpt; empty: no checkpoints
  std::string key;  // the greedy's identity (run key, branch): another key's files are not used
  double interval_seconds = 30;  // of greedy work between two checkpoints; <= 0: none
  int64_t stop_after =
      -1;  // tests: fail right after the checkpoint of this many picks (as a kill would)

  bool enabled() const { return !prefix.empty() && interval_seconds > 0; }
  /// The checkpoint of one branch of a run (e.g. "head", "tail").
  GreedyCheckpoint branch(const std::string& name) const;
  /// Removes every checkpoint file under `prefix` (any branch, any rank count).
  void remove_files() const;
};

/// One rank's part of a greedy's state.
struct GreedyState {
  std::vector<int64_t> picks;    // global positions in selection order; empty: start afresh
  std::vector<float> min_dist;   // this rank's rows
  std::vector<int32_t> nearest;  // step of each row's nearest centre; -1: unknown
};

/// Writes and finds one greedy's checkpoints: n rows of width d of all ranks,
/// m centres; this rank holds rows [begin, begin + rows).
class GreedyCheckpointer {
 public:
  GreedyCheckpointer(GreedyCheckpoint where, int64_t n, int64_t d, int64_t m, int64_t begin,
                     int64_t rows, dist::Comm& comm);
  bool enabled() const { return where_.enabled(); }
  /// Collective: this rank's part of the newest complete checkpoint every rank
  /// agrees on (picks empty when there is none).
  GreedyState load();
  /// Collective, called after every step by every rank with the picks so far:
  /// writes this rank's state when a checkpoint is due (about every
  /// interval_seconds of the ranks' slowest greedy work); `state` fills it.
  /// Returns whether it wrote.
  template <class Fill>
  bool after_step(int64_t picks, Fill&& state) {
    if (!enabled() || (picks < next_ && picks != m_)) return false;
    if (!due(picks)) return false;
    GreedyState s;
    state(s);
    write(s);
    if (picks == where_.stop_after) stop(picks);
    return true;
  }
  /// Bytes of this rank's file (the cost of one checkpoint).
  int64_t file_bytes() const;
  int64_t written() const { return written_; }

 private:
  bool due(int64_t picks);
  [[noreturn]] void stop(int64_t picks) const;
  void write(const GreedyState& s);
  std::filesystem::path file(int rank, int ranks) const;

  GreedyCheckpoint where_;
  int64_t n_, d_, m_, begin_, rows_;
  dist::Comm& comm_;
  uint64_t key_hash_;
  int64_t next_ = 16;  // the first checkpoint decision: after 16 picks (to time the steps)
  int64_t last_picks_ = 1;
  double last_time_ = 0;  // steady clock seconds at the last decision
  int64_t written_ = 0;
};

}  // namespace tc::sampling
