#include "tailedcore/sampling/class_size.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/names.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/similarity.h"
#include "tailedcore/sampling/tail_size.h"
#include "tailedcore/sampling/thresholds.h"
#include "tailedcore/sampling/votes.h"

namespace tc::sampling {

int64_t similarity_block_rows(const ClassSizeOptions& opts, int64_t n, int ranks) {
  constexpr int64_t kMaxBlockRows = 4096;
  if (opts.block_rows > 0) return std::min(opts.block_rows, n);
  const int64_t per_rank = (n + ranks - 1) / std::max(ranks, 1);
  return std::max<int64_t>(1, std::min(kMaxBlockRows, per_rank));
}

const core::NameTable<TailRule>& tail_rules() {
  static const core::NameTable<TailRule> table({{TailRule::kNone, ""},
                                                {TailRule::kAdaTrimMinMode, "ada_trim_min-mode"},
                                                {TailRule::kSymmin, "symmin"},
                                                {TailRule::kDoubleMaxStep, "double_max_step"}});
  return table;
}

ClassSizeOptions class_size_options(TailRule rule) {
  ClassSizeOptions o;
  switch (rule) {
    case TailRule::kAdaTrimMinMode:
      o.threshold = Threshold::kTrimMin, o.vote = Vote::kMode;
      break;
    case TailRule::kSymmin:
      o.threshold = Threshold::kSymmin, o.vote = Vote::kMean;
      break;
    case TailRule::kDoubleMaxStep:
      o.threshold = Threshold::kDoubleMaxStep, o.vote = Vote::kNone;
      break;
    case TailRule::kNone:
      TC_FAIL("tail_th_type is null: no tail rule to resolve");
  }
  return o;
}

TailSelection select_tail(const at::Tensor& embeddings, const ClassSizeOptions& opts,
                          dist::Comm& comm) {
  const Threshold rule = opts.threshold;
  const Vote vote = opts.vote;
  TC_CHECK(!(vote == Vote::kNone && is_scalar(rule)),
           "vote 'none' exists only with adaptive "
           "thresholds (the reference's adaptive_class_size), not with ",
           threshold_name(rule));
  TC_CHECK(opts.block_rows >= 0, "block_rows = ", opts.block_rows,
           ": expected >= 1, or 0 for the default");
  TC_CHECK(embeddings.dim() == 2 && embeddings.size(0) >= 1,
           "class sizes need [N, E] embeddings: got ", embeddings.sizes());
  const int64_t N = embeddings.size(0);
  const auto xn = normalized_rows(embeddings);  // F.normalize, with a machine-independent norm
  // Whole blocks of rows per rank. The entries do not depend on the blocks
  // (ExactSimilarity), so blocks only set memory and the work per rank.
  const ExactSimilarity similarity(xn, opts.cuda_device);
  const int64_t B = similarity_block_rows(opts, N, comm.size());
  const int64_t blocks = (N + B - 1) / B;
  const auto my_blocks = dist::shard_range(blocks, comm.rank(), comm.size());
  const int64_t row_begin = std::min(N, my_blocks.begin * B),
                row_end = std::min(N, my_blocks.end * B);
  const int64_t my_rows = row_end - row_begin;
  const RowBlockVisitor my_row_blocks =
      [&](const std::function<void(int64_t, const at::Tensor&)>& fn) {
        for (int64_t s = row_begin; s < row_end; s += B)
          fn(s, similarity.rows(s, std::min(B, N - s)));
      };

  // Scalar thresholds (symmin, symavg) need every row's minimum first: one
  // extra pass. Adaptive thresholds are per row, found in the main pass.
  std::vector<float> th_local(my_rows);
  if (is_scalar(rule)) {
    torch::Tensor all_mins;  // indep needs none
    if (rule != Threshold::kIndep) {
      auto mins = torch::empty({my_rows}, torch::kFloat32);
      my_row_blocks([&](int64_t s, const torch::Tensor& rows) {
        mins.narrow(0, s - row_begin, rows.size(0)).copy_(std::get<0>(rows.min(1)));
      });
      all_mins = comm.allgatherv(mins);
    }
    std::fill(th_local.begin(), th_local.end(), scalar_threshold(rule, all_mins, /*factor=*/1));
  }
  // One pass over the similarity rows: each row's threshold th_i and count
  // r_i depend on that row alone, and so does its vote (r_i into every column
  // j with S_ij >= th_i), so the votes are tallied right away and the product
  // is computed once.
  std::vector<int64_t> r_local(my_rows);
  VoteTally tally(vote, N);
  std::atomic<int64_t> degenerate_rows{0};
  my_row_blocks([&](int64_t s, const torch::Tensor& rows) {
    const int64_t c = rows.size(0);
    const float* p = rows.data_ptr<float>();
    float* th = th_local.data() + (s - row_begin);
    int64_t* r = r_local.data() + (s - row_begin);
    at::parallel_for(0, c, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const float* row = p + i * N;
        if (!is_scalar(rule)) {
          bool degenerate = false;
          th[i] = row_threshold(row, N, rule, &degenerate);
          degenerate_rows += degenerate;
        }
        int64_t count = 0;
        for (int64_t j = 0; j < N; ++j) count += row[j] >= th[i];
        r[i] = count;
      }
    });
    tally.add(p, c, th, r);
  });
  const auto th_all =
      comm.allgatherv(torch::from_blob(th_local.data(), {my_rows}, torch::kFloat32).clone());
  const auto r_all =
      comm.allgatherv(torch::from_blob(r_local.data(), {my_rows}, torch::kInt64).clone());
  const int64_t degenerate =
      comm.allreduce(torch::tensor({degenerate_rows.load()}), dist::ReduceOp::kSum).item<int64_t>();

  TailSelection out;
  out.class_sizes = tally.class_sizes(th_all, r_all, my_row_blocks, comm).contiguous();
  out.degenerate_rows = degenerate;
  if (degenerate > 0)
    core::log_warn(
        "class sizes: ", degenerate, " of ", N, " similarity rows have no value above ",
        "their half-angle threshold (the embeddings do not separate; the reference would ",
        "raise IndexError): those rows use their largest similarity as threshold");
  std::vector<float> cs(out.class_sizes.data_ptr<float>(), out.class_sizes.data_ptr<float>() + N);
  out.samples_per_class = predict_num_samples_per_class(cs);
  out.max_k = predict_max_k(out.samples_per_class, opts.percentile);
  std::vector<int64_t> tail;
  for (int64_t j = 0; j < N; ++j)
    if (cs[j] <= static_cast<float>(out.max_k)) tail.push_back(j);  // NaN is never tail
  out.tail_indices =
      tail.empty() ? torch::empty({0}, torch::kInt64) : torch::tensor(tail, torch::kInt64);
  return out;
}

}  // namespace tc::sampling
