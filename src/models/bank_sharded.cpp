#include "tailedcore/models/bank_sharded.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/projection.h"
#include "tailedcore/sampling/sharded.h"

namespace tc::models {

MemoryBank greedy_bank_sharded(const at::Tensor& local_in, int64_t first_row, const at::Tensor& subset,
                               const sampling::CoresetOptions& opts, dist::Comm& comm,
                               sampling::GreedyShardStats* stats, int64_t block_rows) {
  TC_CHECK(local_in.dim() == 2, "greedy bank: rows must be [rows, dim]: got ", local_in.sizes());
  TC_CHECK(block_rows >= 1, "block_rows = ", block_rows, ": expected >= 1");
  const auto local = local_in.to(torch::kFloat32).contiguous();
  const int64_t b = local.size(0);
  const int64_t dim =
      comm.allreduce(torch::tensor({local.size(1)}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  // This rank's candidates: rows of `subset` inside its block (a contiguous run
  // of the ascending candidate list, so candidate positions are sharded in
  // rank order too).
  torch::Tensor cand;  // local row indices, ascending
  if (subset.defined()) {
    const auto s = subset.to(torch::kInt64).contiguous();
    const int64_t lo = torch::searchsorted(s, torch::tensor({first_row}, torch::kInt64)).item<int64_t>();
    const int64_t hi = torch::searchsorted(s, torch::tensor({first_row + b}, torch::kInt64)).item<int64_t>();
    cand = s.narrow(0, lo, hi - lo) - first_row;
  } else {
    cand = torch::arange(b, torch::kInt64);
  }
  const int64_t total = comm.allreduce(torch::tensor({cand.size(0)}, torch::kInt64), dist::ReduceOp::kSum).item<int64_t>();
  if (total == 0) return {};
  const bool projects = opts.proj_dim > 0 && opts.proj_dim != dim;
  const int64_t gd = projects ? opts.proj_dim : dim;
  auto greedy_rows = torch::empty({cand.size(0), gd}, torch::kFloat32);
  for (int64_t s = 0; s < cand.size(0); s += block_rows) {
    const int64_t c = std::min(block_rows, cand.size(0) - s);
    const auto rows = local.index_select(0, cand.narrow(0, s, c));
    greedy_rows.narrow(0, s, c).copy_(projects ? sampling::project(rows, opts.proj_dim, opts.seed) : rows);
  }
  auto greedy_opts = opts;
  greedy_opts.proj_dim = 0;  // projected above
  // Positions in the global candidate list (candidates of lower ranks first).
  sampling::GreedyShardStats own_stats;
  if (!stats) stats = &own_stats;
  const auto pos = sampling::greedy_coreset_sharded(greedy_rows, greedy_opts, comm, stats);
  if (comm.rank() == 0)
    core::log_info("greedy: ", pos.size(0), " centres of ", total, " candidates (", gd, "-d) on ", comm.size(),
                   " ranks: ", stats->seconds, " s, ", stats->steps, " steps of one fused pick each (",
                   stats->bytes_per_step, " bytes sent and ", stats->bytes_per_step * comm.size(),
                   " received per rank a step)");
  greedy_rows = torch::Tensor();
  const auto cand_counts = comm.allgather(torch::tensor({cand.size(0)}, torch::kInt64));
  const int64_t cand_begin = cand_counts.narrow(0, 0, comm.rank()).sum().item<int64_t>();
  // The chosen rows at full width from their owners, in ascending candidate
  // position (rank order), then put in selection order.
  const auto [sorted, order] = pos.sort();
  const auto in_mine = (sorted >= cand_begin) & (sorted < cand_begin + cand.size(0));
  const auto my_pos = sorted.masked_select(in_mine) - cand_begin;
  const auto my_rows = local.index_select(0, cand.index_select(0, my_pos));
  const auto gathered = comm.allgatherv(my_rows.defined() && my_rows.numel() ? my_rows : torch::empty({0, dim}));
  TC_ASSERT(gathered.size(0) == pos.size(0), "greedy bank: ", gathered.size(0), " chosen rows gathered for ",
            pos.size(0), " centres");
  MemoryBank bank;
  bank.features = torch::empty({pos.size(0), dim}, torch::kFloat32);
  bank.features.index_copy_(0, order, gathered);
  // Global source rows of the chosen candidate positions.
  const auto my_sources = cand.index_select(0, my_pos) + first_row;
  const auto sources_sorted = comm.allgatherv(my_sources);
  bank.source_rows = torch::empty({pos.size(0)}, torch::kInt64);
  bank.source_rows.index_copy_(0, order, sources_sorted);
  bank.greedy_seed = static_cast<int64_t>(opts.seed);
  return bank;
}

}  // namespace tc::models
