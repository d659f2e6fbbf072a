// Patch-wise LOF for 300 images x 28 x 28 positions x 128 dims (projection
// off: already 128-d): ours (patchwise_lof) against two baselines at the same
// thread count:
//  - the straightforward per-position exact LOF in LibTorch (torch::cdist full
//    distance matrix + topk, one position at a time, float64 like ours), timed
//    on the first --baseline-positions positions and scaled to all of them;
//  - with --official-src DIR (a folder holding the official repository's src/):
//    the official code itself (LOFSampler.run: one sklearn LocalOutlierFactor
//    per position), through official_baseline.py.
//
//   build-X/tests/bench_lof [--threads T] [--images 300] [--side 28] [--reps 3]
//                           [--baseline-positions 784] [--official-src DIR]
// Appends to results/bench/lof.csv (run from the repository root).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "driver.h"
#include "official.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/lof.h"

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
  LofResult ours;
  torch::Tensor base = torch::empty({N, base_pos}, torch::kFloat64);
  const auto per_pos = x.view({N, P, D});
  // Shared machine: each repetition times the two back to back; the ratios
  // are taken within a repetition and their median is reported.
  std::vector<double> t_ours, t_base, ratio, t_gram;
  for (int rep = 0; rep < reps; ++rep) {
    const auto tb = tc::bench::time_it(
        [&] {
          for (int64_t p = 0; p < base_pos; ++p)
            base.select(1, p).copy_(lof_one_position(per_pos.select(1, p), o.k));
        },
        1, 0);
    const auto to = tc::bench::time_it([&] { ours = patchwise_lof(x, P, o, *comm); }, 1, 0);
    // The floor: the float32 Gram products alone, in ours' blocks of positions.
    const auto tg = tc::bench::time_it(
        [&] {
          for (int64_t p0 = 0; p0 < P; p0 += 64) {
            const auto b =
                per_pos.narrow(1, p0, std::min<int64_t>(64, P - p0)).transpose(0, 1).contiguous();
            torch::bmm(b, b.transpose(1, 2));
          }
        },
        1, 0);
    t_gram.push_back(tg.median_s);
    const double full = tb.median_s * P / base_pos;
    t_base.push_back(full);
    t_ours.push_back(to.median_s);
    ratio.push_back(full / to.median_s);
    std::printf("rep %d: cdist baseline %.3f s, patchwise_lof %.3f s, float32 Gram alone %.3f s\n",
                rep, full, to.median_s, tg.median_s);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto max_rel = [](const torch::Tensor& got, const torch::Tensor& want) {
    const auto w = want.to(torch::kFloat64);
    return ((got.to(torch::kFloat64) - w).abs() / w.abs()).max().item<double>();
  };
  const double rel_base = max_rel(ours.scores.view({N, P}).narrow(1, 0, base_pos), base);

  // The official code, right after ours: its median over the same repetitions.
  const std::string official_src = tc::bench::arg_text(argc, argv, "--official-src", "");
  double official_s = 0, rel_official = 0;
  std::string same_kept = "-";
  if (!official_src.empty()) {
    const auto off =
        tc::bench::run_official(official_src, "lof", x, threads, reps, {{"h", side}, {"w", side}});
    official_s = off.median_s;
    rel_official = max_rel(ours.scores, off.outputs.at("scores"));
    same_kept = torch::equal(ours.kept_indices, off.outputs.at("kept")) ? "yes" : "NO";
  }

  tc::bench::CsvReport csv(
      "lof",
      "utc,case,threads,images,positions,dim,reps,seconds_median,cdist_baseline_s,"
      "speedup_vs_cdist,max_rel_diff_vs_cdist,cdist_positions_timed,official_s,"
      "speedup_vs_official,max_rel_diff_vs_official,same_kept_as_official,gram_only_s");
  char stamp[32], line[512];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const double secs = median(t_ours);
  std::snprintf(
      line, sizeof line,
      "%s,patchwise_lof,%d,%lld,%lld,%lld,%d,%.3f,%.3f,%.2f,%.2e,%lld,%.3f,%.2f,%.2e,%s,%.3f",
      stamp, threads, static_cast<long long>(N), static_cast<long long>(P),
      static_cast<long long>(D), reps, secs, median(t_base), median(ratio), rel_base,
      static_cast<long long>(base_pos), official_s, official_s > 0 ? official_s / secs : 0.0,
      rel_official, same_kept.c_str(), median(t_gram));
  csv.row(line);
  return 0;
}
