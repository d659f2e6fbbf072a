#include "tailedcore/models/memory_bank.h"

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/projection.h"

namespace tc::models {

MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head) {
  if (tail.rows() == 0) return head;
  MemoryBank out = tail;
  out.tail_rows = tail.rows();
  out.tail_greedy_seed = tail.greedy_seed;
  out.tail_greedy_visits_per_step = tail.greedy_visits_per_step;
  out.tail_greedy_rows = tail.greedy_rows;
  out.greedy_seed = -1;
  out.greedy_visits_per_step = -1;
  out.greedy_rows = 0;
  if (head.rows() == 0) return out;
  TC_ASSERT(tail.weights.defined() == head.weights.defined(), "both banks weighted or neither");
  TC_ASSERT(tail.positions.defined() && head.positions.defined(),
            "fitted banks (positions) are merged");
  out.features = torch::cat({tail.features, head.features});  // this rank's own rows only
  out.positions = torch::cat({tail.positions, head.positions + tail.rows()});
  out.source_rows = torch::cat({tail.source_rows, head.source_rows});
  if (head.weights.defined()) out.weights = torch::cat({tail.weights, head.weights});
  out.greedy_seed = head.greedy_seed;
  out.greedy_visits_per_step = head.greedy_visits_per_step;
  out.greedy_rows = head.greedy_rows;
  return out;
}

LocalRows LocalRows::of(const at::Tensor& local_in, int64_t first_row) {
  TC_CHECK(local_in.dim() == 2, "greedy bank: rows must be [rows, dim]: got ", local_in.sizes());
  const auto local = local_in.to(torch::kFloat32).contiguous();
  return {first_row, local.size(0), local.size(1),
          [local](int64_t first, int64_t count) { return local.narrow(0, first, count); }};
}

LocalRows LocalRows::of_file(const std::filesystem::path& path, const std::string& dataset,
                             dist::Comm& comm) {
  auto r = std::make_shared<io::H5Reader>(path);
  const auto shape = r->shape(dataset);
  TC_CHECK(shape.size() == 2, path.string(), ": /", dataset, " must be [rows, dim]");
  const auto mine = dist::shard_range(shape[0], comm.rank(), comm.size());
  const int64_t first_row = mine.begin;
  return {first_row, mine.size(), shape[1], [r, dataset, first_row](int64_t first, int64_t count) {
            auto rows = r->read_rows(dataset, first_row + first, count).to(torch::kFloat32);
            io::check_finite_file_rows(*r, dataset, rows,
                                       first_row + first);  // a NaN row would fill the bank
            return rows;
          }};
}

namespace {

// Calls fn(first, block, begin, end) for every block of `block_rows` local
// rows that holds at least one of `rows` (local, ascending); [begin, end) are
// the positions in `rows` of the rows in that block. Only those blocks are read.
void for_blocks_holding(
    const LocalRows& src, const at::Tensor& rows, int64_t block_rows,
    const std::function<void(int64_t, const at::Tensor&, int64_t, int64_t)>& fn) {
  const auto row = rows.accessor<int64_t, 1>();
  const int64_t m = rows.size(0);
  for (int64_t s = 0, next = 0; s < src.rows && next < m; s += block_rows) {
    const int64_t c = std::min(block_rows, src.rows - s);
    int64_t end = next;
    while (end < m && row[end] < s + c) ++end;
    if (end == next) continue;
    fn(s, src.read(s, c), next, end);
    next = end;
  }
}

// This rank's candidates: the rows of `subset` inside its block (a contiguous
// run of the ascending list, so candidate positions are in rank order too), as
// local rows.
at::Tensor local_candidates(const LocalRows& src, const at::Tensor& subset) {
  if (!subset.defined()) return torch::arange(src.rows, torch::kInt64);
  const auto s = subset.to(torch::kInt64).contiguous();
  const int64_t nc = s.size(0);
  TC_CHECK(nc <= 1 || (s.narrow(0, 1, nc - 1) > s.narrow(0, 0, nc - 1)).all().item<bool>(),
           "greedy bank: candidate rows must be ascending and distinct");
  const int64_t lo =
      torch::searchsorted(s, torch::tensor({src.first_row}, torch::kInt64)).item<int64_t>();
  const int64_t hi =
      torch::searchsorted(s, torch::tensor({src.first_row + src.rows}, torch::kInt64))
          .item<int64_t>();
  return s.narrow(0, lo, hi - lo) - src.first_row;
}

}  // namespace

MemoryBank greedy_bank(const LocalRows& src, const at::Tensor& subset,
                       const sampling::CoresetOptions& opts, dist::Comm& comm,
                       sampling::GreedyStats* stats, int64_t block_rows,
                       const sampling::GreedyCheckpoint& checkpoint) {
  TC_CHECK(block_rows >= 1, "block_rows = ", block_rows, ": expected >= 1");
  const int64_t n = comm.allreduce(torch::tensor({src.rows}, torch::kInt64), dist::ReduceOp::kSum)
                        .item<int64_t>();
  if (subset.defined() && subset.numel())
    TC_CHECK(subset.min().item<int64_t>() >= 0 && subset.max().item<int64_t>() < n,
             "greedy bank: a candidate row is outside the ", n, " rows");
  const auto cand = local_candidates(src, subset);
  const int64_t total =
      comm.allreduce(torch::tensor({cand.size(0)}, torch::kInt64), dist::ReduceOp::kSum)
          .item<int64_t>();
  if (total == 0) {  // e.g. LOF kept nothing: an empty bank, no greedy
    MemoryBank empty;
    empty.features = torch::empty({0, src.dim}, torch::kFloat32);
    empty.positions = torch::empty({0}, torch::kInt64);
    empty.source_rows = torch::empty({0}, torch::kInt64);
    return empty;
  }
  const int64_t dim =
      comm.allreduce(torch::tensor({src.dim}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  const bool projects = opts.proj_dim > 0 && opts.proj_dim != dim;
  const int64_t gd = projects ? opts.proj_dim : dim;
  // Where this rank's candidates start in the list of all ranks' candidates.
  const auto cand_counts = comm.allgather(torch::tensor({cand.size(0)}, torch::kInt64));
  const int64_t cand_begin = cand_counts.narrow(0, 0, comm.rank()).sum().item<int64_t>();
  // The candidates as the greedy sees them, projected block by block as read.
  auto greedy_rows = torch::empty({cand.size(0), gd}, torch::kFloat32);
  for_blocks_holding(
      src, cand, block_rows,
      [&](int64_t first, const at::Tensor& block, int64_t begin, int64_t end) {
        const auto rows = block.index_select(0, cand.narrow(0, begin, end - begin) - first);
        greedy_rows.narrow(0, begin, end - begin)
            .copy_(projects ? sampling::project(rows, opts.proj_dim, opts.seed, cand_begin + begin)
                            : rows);
      });
  auto greedy_opts = opts;
  greedy_opts.proj_dim = 0;  // projected above
  sampling::GreedyStats own_stats;
  if (!stats) stats = &own_stats;
  // Positions in the global candidate list (candidates of lower ranks first).
  const auto pos = sampling::greedy_coreset(greedy_rows, greedy_opts, comm, stats, checkpoint);
  const double steps = static_cast<double>(std::max<int64_t>(1, stats->steps_run));
  const double visited = static_cast<double>(stats->rows_visited) / steps;
  if (comm.rank() == 0)
    core::log_info(
        "greedy: ", pos.size(0), " centres of ", total, " candidates (", gd, "-d) on ", comm.size(),
        " ranks: ", stats->seconds, " s, ", stats->steps, " steps of one fused pick each (",
        stats->bytes_per_step, " bytes sent and ", stats->bytes_per_step * comm.size(),
        " received per rank a step); rows visited a step: ", visited, " (",
        100.0 * visited / static_cast<double>(total), " % of a full pass), ",
        static_cast<double>(stats->rows_read) / steps, " read, ",
        static_cast<double>(stats->centres_measured) / steps, " centre distances",
        stats->checkpoints ? ", " + std::to_string(stats->checkpoints) + " checkpoints of " +
                                 std::to_string(stats->checkpoint_bytes) + " bytes on rank 0"
                           : std::string(),
        stats->resumed_at ? ", resumed at centre " + std::to_string(stats->resumed_at)
                          : std::string());
  greedy_rows = torch::Tensor();
  // This rank's chosen candidates, in ascending candidate position (rank order).
  const auto [sorted, order] = pos.sort();
  const auto my_pos =
      sorted.masked_select((sorted >= cand_begin) & (sorted < cand_begin + cand.size(0))) -
      cand_begin;
  const auto my_local = cand.index_select(0, my_pos);  // ascending local rows
  // Their full-width rows, read again from the source (only the blocks holding them).
  auto my_rows = torch::empty({my_local.size(0), dim}, torch::kFloat32);
  for_blocks_holding(
      src, my_local, block_rows,
      [&](int64_t first, const at::Tensor& block, int64_t begin, int64_t end) {
        my_rows.narrow(0, begin, end - begin)
            .copy_(block.index_select(0, my_local.narrow(0, begin, end - begin) - first));
      });
  MemoryBank bank;
  bank.greedy_seed = static_cast<int64_t>(opts.seed);
  bank.greedy_visits_per_step = visited;
  bank.greedy_rows = total;
  bank.features = my_rows;
  bank.positions =
      order.masked_select((sorted >= cand_begin) & (sorted < cand_begin + cand.size(0)));
  // Global source rows on every rank (8 bytes a centre).
  bank.source_rows = torch::empty({pos.size(0)}, torch::kInt64);
  bank.source_rows.index_copy_(0, order, comm.allgatherv(my_local + src.first_row));
  return bank;
}

}  // namespace tc::models
