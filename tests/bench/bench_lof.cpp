// Patch-wise LOF for 300 images x 28 x 28 positions x 128 dims (projection
// off: already 128-d): ours (patchwise_lof) against the straightforward
// per-position exact LOF in LibTorch (torch::cdist full distance matrix +
// topk, one position at a time, float64 like ours) at the same thread count.
//
//   build-X/tests/bench_lof [--threads T] [--images 300] [--side 28] [--reps 3]
//                           [--baseline-positions 784]
// The baseline is timed on the first --baseline-positions positions and scaled
// to all of them. Appends to results/bench/lof.csv (run from the repository root).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "driver.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/lof_blocked.h"

using namespace tc::sampling;

namespace {

using tc::bench::arg;

// sklearn's LOF for one set of points [N, D], written the plain way.
torch::Tensor lof_one_position(const torch::Tensor& x_in, int64_t k) {
  const auto x = x_in.to(torch::kFloat64);
  const int64_t n = x.size(0), ke = std::min(k, n - 1);
  auto dist = torch::cdist(x, x);
  dist.fill_diagonal_(std::numeric_limits<double>::infinity());
  const auto [kd, ki] = dist.topk(ke, 1, /*largest=*/false);
  const auto kdist = kd.select(1, ke - 1);
  const auto reach = torch::maximum(kdist.index({ki}), kd);
  const auto lrd = 1.0 / (reach.mean(1) + 1e-10);
  return lrd.index({ki}).mean(1) / lrd;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = tc::core::set_thread_count(static_cast<int>(arg(argc, argv, "--threads", 0)));
  const int64_t N = arg(argc, argv, "--images", 300), side = arg(argc, argv, "--side", 28), D = 128;
  const int64_t P = side * side;
  const int64_t base_pos = std::min(P, arg(argc, argv, "--baseline-positions", P));
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 3));

  // Images of a few kinds; each position has its own mean (like real patch features).
  torch::manual_seed(0);
  const auto pos_mean = torch::rand({1, P, D}) * 2;
  const auto kind = torch::randint(6, {N});
  const auto kind_shift = torch::randn({6, 1, D}) * 0.5;
  const auto x = (pos_mean + kind_shift.index_select(0, kind) + 0.3 * torch::randn({N, P, D}))
                     .relu()
                     .reshape({N * P, D})
                     .contiguous();

  auto comm = tc::dist::make_self_comm();
  LofOptions o;
  o.proj_dim = 0;
  LofResult ours, blocked;
  torch::Tensor base = torch::empty({N, base_pos}, torch::kFloat64);
  const auto per_pos = x.view({N, P, D});
  // Shared machine: each repetition times the three back to back; the ratios
  // are taken within a repetition and their median is reported.
  std::vector<double> t_ours, t_blocked, t_base, r_ours, r_blocked;
  for (int rep = 0; rep < reps; ++rep) {
    const auto tb = tc::bench::time_it(
        [&] {
          for (int64_t p = 0; p < base_pos; ++p)
            base.select(1, p).copy_(lof_one_position(per_pos.select(1, p), o.k));
        },
        1, 0);
    const auto to = tc::bench::time_it([&] { ours = patchwise_lof(x, P, o, *comm); }, 1, 0);
    const auto tk =
        tc::bench::time_it([&] { blocked = patchwise_lof_blocked(x, P, o, *comm); }, 1, 0);
    const double full = tb.median_s * P / base_pos;
    t_base.push_back(full);
    t_ours.push_back(to.median_s);
    t_blocked.push_back(tk.median_s);
    r_ours.push_back(full / to.median_s);
    r_blocked.push_back(full / tk.median_s);
    std::printf("rep %d: baseline %.3f s, patchwise_lof %.3f s, patchwise_lof_blocked %.3f s\n",
                rep, full, to.median_s, tk.median_s);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const auto ours_part = ours.scores.view({N, P}).narrow(1, 0, base_pos).to(torch::kFloat64);
  const auto blocked_part = blocked.scores.view({N, P}).narrow(1, 0, base_pos).to(torch::kFloat64);
  const double rel = ((ours_part - base).abs() / base.abs()).max().item<double>();
  const double rel_blocked = ((blocked_part - base).abs() / base.abs()).max().item<double>();
  const bool same_kept = torch::equal(ours.kept_indices, blocked.kept_indices);

  tc::bench::CsvReport csv(
      "lof",
      "utc,case,threads,images,positions,dim,reps,seconds_median,baseline_s_median,"
      "speedup_median,max_rel_diff_vs_baseline,baseline_positions_timed,"
      "same_kept_as_patchwise_lof");
  char stamp[32], line[512];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  auto report = [&](const char* name, double secs, double ratio, double err) {
    std::snprintf(line, sizeof line, "%s,%s,%d,%lld,%lld,%lld,%d,%.3f,%.3f,%.2f,%.2e,%lld,%s",
                  stamp, name, threads, static_cast<long long>(N), static_cast<long long>(P),
                  static_cast<long long>(D), reps, secs, median(t_base), ratio, err,
                  static_cast<long long>(base_pos), same_kept ? "yes" : "NO");
    csv.row(line);
  };
  report("patchwise_lof", median(t_ours), median(r_ours), rel);
  report("patchwise_lof_blocked", median(t_blocked), median(r_blocked), rel_blocked);
  return 0;
}
