#include "tailedcore/sampling/coreset.h"

#include <torch/torch.h>

#include <omp.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/greedy_device.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_stepper.h"
#include "tailedcore/sampling/greedy_team.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {

int64_t first_centre(int64_t n, const CoresetOptions& opts) {
  if (opts.start_index >= 0) {
    TC_CHECK(opts.start_index < n, "--start-index ", opts.start_index, " is outside the ", n, " rows");
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

at::Tensor greedy_coreset(const at::Tensor& features, const CoresetOptions& opts, dist::Comm& comm) {
  TC_CHECK(features.dim() == 2, "greedy coreset: features must be [rows, dim]: got ", features.sizes());
  const int64_t n = features.size(0);
  TC_CHECK(n > 0, "greedy coreset: the feature bank is empty");
  TC_CHECK(opts.ratio > 0 && opts.ratio <= 1, "greedy_ratio = ", opts.ratio,
           " is out of range: expected a ratio in (0, 1]");
  // The reference returns every row, in order, at ratio 1 (a greedy pass would
  // be O(n^2) and revisit rows once only duplicates are left).
  if (opts.ratio == 1.0) return torch::arange(n, torch::kInt64);
  const int64_t m = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * opts.ratio));
  const auto mine = dist::shard_range(n, comm.rank(), comm.size());
  // Each rank projects only its own rows; the projection matrix is the same everywhere.
  const torch::Tensor local =
      project(features.narrow(0, mine.begin, mine.size()), opts.proj_dim, opts.seed).contiguous();
  const int64_t d = local.size(1);
  std::vector<float> min_dist(mine.size(), std::numeric_limits<float>::infinity());
  auto out = torch::empty({m}, torch::kInt64);
  auto sel = out.accessor<int64_t, 1>();
  sel[0] = first_centre(n, opts);
  // Each step's team size from measured step times (greedy_team.h): on a
  // loaded machine a team waits for its descheduled thread at every step.
  GreedyTeam team(omp_get_max_threads(), mine.size() * d);
  GreedyStepper stepper(local.data_ptr<float>(), mine.size(), d, opts.cuda_device);
  core::Progress progress("greedy coreset", m);
  progress.advance();
  for (int64_t step = 1; step < m; ++step) {
    const int64_t last = sel[step - 1];
    const int owner = [&] {
      for (int r = 0; r < comm.size(); ++r) {
        const auto rr = dist::shard_range(n, r, comm.size());
        if (last >= rr.begin && last < rr.end) return r;
      }
      return 0;
    }();
    torch::Tensor centre = owner == comm.rank() ? local[last - mine.begin].clone()
                                                : torch::empty({d}, torch::kFloat32);
    centre = comm.broadcast(centre, owner).contiguous();
    const int threads = team.next();
    const auto t0 = std::chrono::steady_clock::now();
    const BlockMax bm = stepper.step(centre.data_ptr<float>(), min_dist.data(), threads);
    team.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const auto [value, index] =
        comm.max_loc(bm.index >= 0 ? bm.value : -std::numeric_limits<double>::infinity(),
                     bm.index >= 0 ? mine.begin + bm.index : std::numeric_limits<int64_t>::max());
    sel[step] = index;
    progress.advance();
  }
  core::log_debug("greedy coreset: ", mine.size(), " rows x ", m, " steps, ", stepper.read_percent(),
                  " % of the row visits read (the rest pruned)");
  return out;
}

}  // namespace tc::sampling
