// Class-size estimation and tail selection (SPEC 4): from the self-similarity
// of L2-normalised global embeddings, each image's class size is voted by the
// images that count it as a neighbour; images whose class looks small
// (<= max_K) form the tail.
//
// Contract (distributed): collective over comm; every rank passes the same
// full embeddings [N, E]. The similarity is computed in globally aligned
// blocks of block_rows rows, whole blocks per rank; per-row thresholds and
// counts are all-gathered; each rank tallies its rows' votes per column and
// one all-reduce sums the (integer) tallies. No rank holds N x N; the result
// is identical for any number of ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace tc::dist {
class Comm;
}

namespace tc::sampling {

struct ClassSizeOptions {
  std::string th_type = "trim_min";  // symmin symavg indep half_min trim_min truncate_min max_step double_max_step
  std::string vote = "mode";         // mean mode none nearest
  int64_t block_rows = 0;            // similarity rows per product; 0: see similarity_block_rows
  int product_threads = 0;           // threads of each product; 0: the caller's (see similarity_rows)
  double percentile = 0.15;          // predict_max_K's percentile rule
};

/// Rows per similarity product for N embeddings. An explicit block_rows is
/// used as given (>= N: one product). 0, the default: one N x N product -- the
/// reference's own, bit for bit with the same BLAS and thread count -- up to
/// 16,384 rows (1 GiB of float32; every official noisy long-tail set is
/// smaller), and blocks of 4,096 rows beyond, which bound memory at
/// O(N x 4096) but round differently from one product (the BLAS's rounding
/// depends on the product's shape), so a quantised threshold may move.
int64_t similarity_block_rows(const ClassSizeOptions& opts, int64_t n);

/// Similarity rows [begin, begin + count) of the row-normalised xn against all
/// its rows, [count, N] float32, computed with `threads` threads whatever the
/// caller's count: a float32 product's last bits depend on its thread count,
/// and the rank count sets threads per rank, so runs pin it (product_threads =
/// core::single_rank_thread_count) to give the same bits for any rank count.
at::Tensor similarity_rows(const at::Tensor& xn, int64_t begin, int64_t count, int threads);

/// The config's tail_th_type: "ada_trim_min-mode" -> trim_min + mode,
/// "symmin" -> symmin + mean, "double_max_step" -> double_max_step + none.
ClassSizeOptions class_size_options_from_config(const std::string& tail_th_type);

struct TailSelection {
  at::Tensor class_sizes;   // [N] float32 (NaN: no image voted)
  at::Tensor tail_indices;  // int64 ascending
  std::vector<int64_t> samples_per_class;
  int64_t max_k = 0;
  int64_t degenerate_rows = 0;  // rows whose trim threshold had nothing above half the angle
};

TailSelection select_tail(const at::Tensor& embeddings, const ClassSizeOptions& opts, dist::Comm& comm);

// ---- the pieces, exact to the reference (float32 where it computes in float32) ----

/// Per-row adaptive threshold of one similarity row (float32 values), as
/// adaptive_class_size._compute_th_<th_type>. `degenerate` is set when
/// trim_min/truncate_min find no value above the half-angle threshold (the
/// reference crashes there); we then use the row's largest value (SPEC 9.10).
float row_threshold(const float* row, int64_t n, const std::string& th_type, bool* degenerate);

/// The reference's `_sort(v)`: trunc(float32(n * v)) sorted, back to float32 / n.
std::vector<float> quantized_sorted(const float* row, int64_t n);

/// predict_num_samples_per_class: sizes rounded (half to even; NaN counts as 1),
/// greedily partitioned; sorted descending.
std::vector<int64_t> predict_num_samples_per_class(const std::vector<float>& class_sizes);

/// min(elbow, percentile rule) of SPEC 4.1.
int64_t predict_max_k(const std::vector<int64_t>& samples_per_class, double percentile = 0.15);
int64_t elbow(const std::vector<int64_t>& values);

/// The vote of one column: `column` holds count_map[i, j] over rows i.
float vote_mode(const std::vector<int64_t>& column);
float vote_mean(const std::vector<int64_t>& column);

}  // namespace tc::sampling
