// Class-size estimation and tail selection (SPEC 4), the driver: from the
// self-similarity of L2-normalised global embeddings, each image's class size
// is voted by the images that count it as a neighbour; images whose class
// looks small (<= max_K) form the tail. The pieces: the threshold rules
// (thresholds.h), the votes (votes.h), the tail-size estimate (tail_size.h).
//
// Contract (distributed): collective over comm; every rank passes the same
// full embeddings [N, E]. The similarity (ExactSimilarity: every entry the
// float32 rounding of the exact dot product, the same on every machine) is
// computed in blocks of rows, whole blocks per rank; per-row thresholds and
// counts are all-gathered; each rank tallies its rows' votes per column and
// one all-reduce sums the (integer) tallies. No rank holds N x N; the result
// is identical for any number of ranks, threads, block size or BLAS kernel.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tailedcore/core/names.h"
#include "tailedcore/sampling/thresholds.h"
#include "tailedcore/sampling/votes.h"

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct ClassSizeOptions {
  Threshold threshold = Threshold::kTrimMin;
  Vote vote = Vote::kMode;   // kNone only with a per-row threshold (select_tail checks)
  int64_t block_rows = 0;    // similarity rows per block; 0: see similarity_block_rows
  double percentile = 0.15;  // predict_max_K's percentile rule
  int cuda_device = -1;  // CUDA ordinal of the float64 similarity product; -1 = host (same entries)
};

/// Similarity rows per block for N embeddings over `ranks` ranks. An explicit
/// block_rows is used as given (>= N: one block). 0, the default: N / ranks
/// rounded up, at most 4,096 (memory O(N x 4096) per rank). Blocks change
/// neither the entries nor the result, only memory and the work per rank.
int64_t similarity_block_rows(const ClassSizeOptions& opts, int64_t n, int ranks = 1);

/// The config's tail_th_type rules: "" (none: no tail branch), "ada_trim_min-mode",
/// "symmin", "double_max_step".
enum class TailRule { kNone, kAdaTrimMinMode, kSymmin, kDoubleMaxStep };
const core::NameTable<TailRule>& tail_rules();

/// A rule's options: ada_trim_min-mode -> trim_min + mode, symmin -> symmin +
/// mean, double_max_step -> double_max_step + none. kNone is an error.
ClassSizeOptions class_size_options(TailRule rule);

struct TailSelection {
  at::Tensor class_sizes;   // [N] float32 (NaN: no image voted)
  at::Tensor tail_indices;  // int64 ascending
  std::vector<int64_t> samples_per_class;
  int64_t max_k = 0;
  int64_t degenerate_rows = 0;  // rows whose trim threshold had nothing above half the angle
};

/// embeddings [N, E]; fails with one line on vote none with a scalar
/// threshold or a negative block_rows.
TailSelection select_tail(const at::Tensor& embeddings, const ClassSizeOptions& opts,
                          dist::Comm& comm);

}  // namespace tc::sampling
