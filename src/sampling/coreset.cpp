#include "tailedcore/sampling/coreset.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/cuda_device.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/sampling/greedy_checkpoint.h"
#include "tailedcore/sampling/greedy_device_loop.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_stepper.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {

int64_t first_centre(int64_t n, const CoresetOptions& opts) {
  if (opts.start_index >= 0) {
    TC_CHECK(opts.start_index < n, "--start-index ", opts.start_index, " is outside the ", n,
             " rows");
    return opts.start_index;
  }
  std::mt19937_64 rng(opts.seed * 0x9E3779B97F4A7C15ull + 0x5EED);
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
}

BlockMax update_min_distances(const float* rows, int64_t b, int64_t d, const float* centre,
                              float* min_dist, int threads) {
  // One fused pass (distance, running minimum, arg-max): the step is bound by
  // memory bandwidth. Distances are summed in torch::norm's order, so a near
  // tie resolves as the reference's tensor loop does.
  return update_min_distances_torch_order(rows, b, d, centre, min_dist, threads);
}

namespace {

// Every rank's row count, in rank order.
std::vector<int64_t> rows_per_rank(int64_t rows, dist::Comm& comm) {
  const auto all = comm.allgather(torch::tensor({rows}, torch::kInt64));
  return {all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel()};
}

// float32 distances of rows of norm at most r are at most 2r, summed as
// squares: past sqrt(FLT_MAX) / 2 they overflow to inf, every min-distance
// ties and the greedy would pick rows in index order.
void check_distances_fit_float32(const torch::Tensor& rows, dist::Comm& comm) {
  const double local =
      rows.size(0) ? rows.to(torch::kFloat64).pow(2).sum(1).max().item<double>() : 0.0;
  const double max_sq =
      comm.allreduce(torch::tensor({local}, torch::kFloat64), dist::ReduceOp::kMax).item<double>();
  const double limit = std::sqrt(static_cast<double>(std::numeric_limits<float>::max())) / 4;
  TC_CHECK(std::isfinite(max_sq) && std::sqrt(max_sq) <= limit, "greedy coreset: a row's norm is ",
           std::sqrt(max_sq),
           " (as the greedy sees it, after the projection): its float32 squared distances "
           "overflow; expected norms up to ",
           limit, " (scale the features down)");
}

// After a checkpoint of k = picks.size() picks: the stepper's state after its
// k - 1 steps (the centres of picks 0 .. k-2, from their owners) and the next
// centre, pick k-1's row. Collective.
torch::Tensor restore_centres(GreedyStepper& stepper, const std::vector<int32_t>& nearest,
                              const float* min_dist, const torch::Tensor& picks,
                              const torch::Tensor& local, int64_t begin, dist::Comm& comm) {
  const int64_t k = picks.size(0), b = local.size(0), d = local.size(1);
  // Each pick is one rank's row: that rank sends it with its step.
  const auto mine = ((picks >= begin) & (picks < begin + b)).nonzero().flatten();
  const auto steps = comm.allgatherv(mine);
  const auto rows = comm.allgatherv(local.index_select(0, picks.index_select(0, mine) - begin));
  TC_ASSERT(steps.size(0) == k, "greedy checkpoint: ", steps.size(0), " centres found for ", k);
  auto centres = torch::empty({k, d}, torch::kFloat32);
  centres.index_copy_(0, steps, rows);
  stepper.restore(nearest.data(), centres.data_ptr<float>(), k - 1, min_dist);
  return centres[k - 1].clone();
}

}  // namespace

void CoresetOptions::validate(const std::string& prefix) const {
  TC_CHECK(ratio > 0 && ratio <= 1, prefix, "greedy_ratio = ", ratio,
           ": expected a ratio in (0, 1]");
  TC_CHECK(proj_dim >= 0, prefix, "greedy_proj_dim = ", proj_dim,
           ": expected >= 0 (0 = no projection)");
}

at::Tensor greedy_coreset(const at::Tensor& local_in, const CoresetOptions& opts, dist::Comm& comm,
                          GreedyStats* stats, const GreedyCheckpoint& checkpoint) {
  TC_CHECK(local_in.dim() == 2, "greedy coreset: rows must be [rows, dim]: got ", local_in.sizes());
  opts.validate("");
  const auto counts = rows_per_rank(local_in.size(0), comm);
  int64_t n = 0, begin = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) begin = n;
    n += counts[r];
  }
  TC_CHECK(n > 0, "greedy coreset: the feature bank is empty");
  // The reference returns every row, in order, at ratio 1 (a greedy pass would
  // be O(n^2) and revisit rows once only duplicates are left).
  if (opts.ratio == 1.0) return torch::arange(n, torch::kInt64);
  // Ranks without rows need the width for the collective and the projection.
  const int64_t in_dim =
      comm.allreduce(torch::tensor({local_in.size(1)}, torch::kInt64), dist::ReduceOp::kMax)
          .item<int64_t>();
  const auto local = project(local_in.size(0) ? local_in : torch::empty({0, in_dim}), opts.proj_dim,
                             opts.seed, begin);
  check_distances_fit_float32(local, comm);
  const int64_t d = local.size(1);
  const int64_t b = local.size(0),
                m = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * opts.ratio));
  std::vector<float> min_dist(b, std::numeric_limits<float>::infinity());
  auto out = torch::empty({m}, torch::kInt64);
  auto sel = out.accessor<int64_t, 1>();
  sel[0] = first_centre(n, opts);
  int owner = 0;
  for (int64_t off = 0; owner < comm.size(); off += counts[owner], ++owner)
    if (sel[0] < off + counts[owner]) break;
  auto centre =
      owner == comm.rank() ? local[sel[0] - begin].clone() : torch::zeros({d}, torch::kFloat32);
  centre = comm.broadcast(centre, owner).contiguous();  // once; then each pick carries its row
  if (opts.cuda_device >= 0) {
    // Min-distances, centres and picks stay on the GPU: no checkpoints there. The
    // rows go to a raw allocation: first hand LibTorch's idle cache back.
    dist::release_cached_cuda_memory();
    core::Progress progress("greedy coreset", m);
    progress.advance(1);
    const auto t_start = std::chrono::steady_clock::now();
    const int64_t round_trips = run_packed_steps(
        cuda_packed_step(local, begin, opts.cuda_device),
        centre.to(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(opts.cuda_device))), 1,
        m, kDevicePickBatch, comm, out.data_ptr<int64_t>(),
        [&](int64_t c) { progress.advance(c); });
    if (stats) {
      stats->steps = stats->steps_run = m - 1;
      stats->bytes_per_step = dist::max_loc_with_row_bytes(d);
      stats->seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      stats->rows = n;
      stats->rows_visited = stats->rows_read = n * (m - 1);  // every row, every step
      stats->host_round_trips = round_trips;
    }
    return out;
  }
  GreedyStepper stepper(local.data_ptr<float>(), b, d);
  GreedyCheckpointer saver(checkpoint, n, d, m, begin, b, comm);
  int64_t first_step = 1;
  if (saver.enabled()) {
    auto state = saver.load();
    if (!state.picks.empty()) {
      first_step = static_cast<int64_t>(state.picks.size());
      std::copy(state.picks.begin(), state.picks.end(), out.data_ptr<int64_t>());
      min_dist = std::move(state.min_dist);
      centre = restore_centres(stepper, state.nearest, min_dist.data(),
                               out.narrow(0, 0, first_step), local, begin, comm);
    }
  }
  const auto no_row = torch::zeros({d}, torch::kFloat32);
  core::Progress progress("greedy coreset", m);
  progress.advance(first_step);
  const auto t_start = std::chrono::steady_clock::now();
  for (int64_t step = first_step; step < m; ++step) {
    const BlockMax bm = stepper.step(centre.data_ptr<float>(), min_dist.data(), 0);
    const bool has = b > 0 && bm.index >= 0;
    const auto pick =
        dist::max_loc_with_row(comm, has ? bm.value : -std::numeric_limits<double>::infinity(),
                               has ? begin + bm.index : std::numeric_limits<int64_t>::max(),
                               has ? local[bm.index] : no_row);
    sel[step] = pick.index;
    centre = pick.row;
    saver.after_step(step + 1, [&](GreedyState& s) {
      s.picks.assign(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + step + 1);
      s.min_dist = min_dist;
      s.nearest.resize(static_cast<size_t>(b));
      stepper.nearest_centres(s.nearest.data());
    });
    progress.advance();
  }
  // Every rank's visits (collective on every rank, stats or not).
  const GreedyVisits v = stepper.visits();
  const auto all = comm.allreduce(
      torch::tensor({v.rows_visited, v.rows_read, v.centres_measured}, torch::kInt64),
      dist::ReduceOp::kSum);
  if (stats) {
    stats->steps = m - 1;
    stats->steps_run = m - first_step;
    stats->bytes_per_step = dist::max_loc_with_row_bytes(d);
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    stats->rows = n;
    stats->rows_visited = all[0].item<int64_t>();
    stats->rows_read = all[1].item<int64_t>();
    stats->centres_measured = all[2].item<int64_t>();
    stats->resumed_at = first_step > 1 ? first_step : 0;
    stats->checkpoints = saver.written();
    stats->checkpoint_bytes = saver.enabled() ? saver.file_bytes() : 0;
    stats->host_round_trips = m - first_step;
  }
  return out;
}

}  // namespace tc::sampling
