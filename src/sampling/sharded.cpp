#include "tailedcore/sampling/sharded.h"

#include <omp.h>
#include <torch/torch.h>

#include <chrono>
#include <limits>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/sampling/greedy_stepper.h"
#include "tailedcore/sampling/greedy_team.h"
#include "tailedcore/sampling/lof_blocked.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {
namespace {

// Every rank's row count, in rank order.
std::vector<int64_t> rows_per_rank(int64_t rows, dist::Comm& comm) {
  const auto all = comm.allgather(torch::tensor({rows}, torch::kInt64));
  return {all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel()};
}

}  // namespace

at::Tensor greedy_coreset_sharded(const at::Tensor& local_in, const CoresetOptions& opts, dist::Comm& comm,
                                  GreedyShardStats* stats) {
  TC_CHECK(local_in.dim() == 2, "greedy coreset: rows must be [rows, dim]: got ", local_in.sizes());
  TC_CHECK(opts.ratio > 0 && opts.ratio <= 1, "greedy_ratio = ", opts.ratio,
           " is out of range: expected a ratio in (0, 1]");
  const auto local = local_in.to(torch::kFloat32).contiguous();
  const auto counts = rows_per_rank(local.size(0), comm);
  int64_t n = 0, begin = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) begin = n;
    n += counts[r];
  }
  TC_CHECK(n > 0, "greedy coreset: the feature bank is empty");
  if (opts.ratio == 1.0) return torch::arange(n, torch::kInt64);  // as greedy_coreset
  // Ranks without rows need the width for the collective.
  const int64_t d = comm.allreduce(torch::tensor({local.size(1)}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  const int64_t b = local.size(0), m = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * opts.ratio));
  std::vector<float> min_dist(b, std::numeric_limits<float>::infinity());
  auto out = torch::empty({m}, torch::kInt64);
  auto sel = out.accessor<int64_t, 1>();
  sel[0] = first_centre(n, opts);
  int owner = 0;
  for (int64_t off = 0; owner < comm.size(); off += counts[owner], ++owner)
    if (sel[0] < off + counts[owner]) break;
  auto centre = owner == comm.rank() ? local[sel[0] - begin].clone() : torch::zeros({d}, torch::kFloat32);
  centre = comm.broadcast(centre, owner).contiguous();  // once; then each pick carries its row
  GreedyTeam team(omp_get_max_threads(), b * d);
  GreedyStepper stepper(local.data_ptr<float>(), b, d, opts.cuda_device);
  const auto no_row = torch::zeros({d}, torch::kFloat32);
  core::Progress progress("greedy coreset", m);
  progress.advance();
  const auto t_start = std::chrono::steady_clock::now();
  for (int64_t step = 1; step < m; ++step) {
    const int threads = team.next();
    const auto t0 = std::chrono::steady_clock::now();
    const BlockMax bm = stepper.step(centre.data_ptr<float>(), min_dist.data(), threads);
    team.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const bool has = b > 0 && bm.index >= 0;
    const auto pick = dist::max_loc_with_row(
        comm, has ? bm.value : -std::numeric_limits<double>::infinity(),
        has ? begin + bm.index : std::numeric_limits<int64_t>::max(), has ? local[bm.index] : no_row);
    sel[step] = pick.index;
    centre = pick.row;
    progress.advance();
  }
  core::log_debug("greedy coreset: ", b, " rows x ", m, " steps, ", stepper.read_percent(),
                  " % of the row visits read (the rest pruned)");
  if (stats) {
    stats->steps = m - 1;
    stats->bytes_per_step = dist::max_loc_with_row_bytes(d);
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  }
  return out;
}

LofResult patchwise_lof_sharded(const at::Tensor& local, int64_t patches_per_image, const LofOptions& opts,
                                dist::Comm& comm) {
  TC_CHECK(local.dim() == 2, "LOF: features must be [rows, dim]: got ", local.sizes());
  const int64_t P = patches_per_image;
  TC_CHECK(P > 0 && local.size(0) % P == 0, "LOF: ", local.size(0), " rows are not a whole number of images of ",
           P, " patches");
  TC_CHECK(opts.keep_quantile > 0 && opts.keep_quantile <= 1, "LOF keep quantile ", opts.keep_quantile,
           ": expected (0, 1]");
  const int64_t n_local = local.size(0) / P;
  const auto images = rows_per_rank(n_local, comm);
  int64_t N = 0;
  for (auto c : images) N += c;
  const int64_t dim = comm.allreduce(torch::tensor({local.size(1)}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  // The same projection rule as patchwise_lof_blocked.
  const auto w = opts.proj_dim > 0 && opts.proj_dim != dim ? random_projection(dim, opts.proj_dim, opts.seed)
                                                            : torch::Tensor();
  const int64_t pd = w.defined() ? opts.proj_dim : dim;
  auto x = local.to(torch::kFloat32);
  if (w.defined()) x = n_local ? x.matmul(w) : torch::empty({0, pd});
  const auto xv = x.view({n_local, P, pd});
  // Rank r gets positions shard_range(P, r) of this rank's images.
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) {
    const auto pos = dist::shard_range(P, r, comm.size());
    parts.push_back(xv.narrow(1, pos.begin, pos.size()).contiguous().view({n_local * pos.size(), pd}));
  }
  x = torch::Tensor();
  const auto mine = dist::shard_range(P, comm.rank(), comm.size());
  auto got = dist::alltoallv(comm, parts);
  parts.clear();
  for (int r = 0; r < comm.size(); ++r) got[r] = got[r].view({images[r], mine.size(), pd});
  const auto per_pos = torch::cat(got);  // [N, positions of this rank, pd]
  got.clear();
  return lof_of_rank_positions(per_pos, P, torch::Tensor(), opts, comm);  // projected before the exchange
}

}  // namespace tc::sampling
