// Greedy k-center step on a 200,000 x 128 bank (projection off: the bank is
// already 128-d), ours against the reference's per-step LibTorch loop
// (difference tensor, torch.norm, torch.minimum, torch.argmax) at the same
// thread count, plus the fraction of the machine's memory read bandwidth
// (the faster of two parallel sums over a 1 GiB buffer, ours and torch::sum,
// measured in the same run).
//
// With --official-src DIR (a folder holding the official repository's src/)
// the official code's own brute-force loop (GreedyCoresetSampler) runs too,
// for --baseline-steps steps, through official_baseline.py, and our sequence
// from its first index is compared with its sequence.
//
//   build-X/tests/bench_coreset [--threads T] [--rows 200000] [--steps 1000]
//                               [--baseline-steps 50] [--reps 5] [--official-src DIR]
// Appends to results/bench/coreset.csv (run from the repository root).
#include <omp.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "bandwidth.h"
#include "driver.h"
#include "official.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/greedy_kernel.h"

using namespace tc::sampling;

namespace {

using tc::bench::arg;
using tc::bench::read_bandwidth;

std::vector<int64_t> torch_loop(const torch::Tensor& x, int64_t first, int64_t steps) {
  std::vector<int64_t> sel{first};
  auto mind = torch::full({x.size(0)}, std::numeric_limits<float>::infinity());
  for (int64_t s = 1; s <= steps; ++s) {
    const auto d = torch::norm(x - x[sel.back()], 2, 1);
    mind = torch::minimum(mind, d);
    sel.push_back(torch::argmax(mind).item<int64_t>());
  }
  return sel;
}

template <class Kernel>
std::vector<int64_t> kernel_loop(const torch::Tensor& x, int64_t first, int64_t steps,
                                 Kernel kernel) {
  std::vector<float> mind(x.size(0), std::numeric_limits<float>::infinity());
  std::vector<int64_t> sel{first};
  const float* rows = x.data_ptr<float>();
  for (int64_t s = 1; s <= steps; ++s) {
    const auto best =
        kernel(rows, x.size(0), x.size(1), rows + sel.back() * x.size(1), mind.data(), 0);
    sel.push_back(best.index);
  }
  return sel;
}

bool same_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  return std::equal(a.begin(), a.begin() + n, b.begin());
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = tc::core::set_thread_count(static_cast<int>(arg(argc, argv, "--threads", 0)));
  const int64_t n = arg(argc, argv, "--rows", 200000), d = 128;
  const int64_t steps = arg(argc, argv, "--steps", 1000);
  const int64_t base_steps = arg(argc, argv, "--baseline-steps", 50);
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 5));

  // Clustered, non-negative rows like post-ReLU patch features.
  torch::manual_seed(0);
  const auto centres = torch::rand({500, d}) * 2;
  const auto x = (centres.index_select(0, torch::randint(500, {n})) + 0.3 * torch::randn({n, d}))
                     .relu()
                     .contiguous();
  const double step_bytes = n * d * 4.0 + n * 8.0;  // rows read + min-distances read and written
  auto comm = tc::dist::make_self_comm();
  CoresetOptions o;
  o.proj_dim = 0;
  o.start_index = 0;
  o.ratio = static_cast<double>(steps + 1) / n + 1e-12;

  // The machine is shared: every repetition measures bandwidth, baseline and
  // candidates back to back, ratios are taken within a repetition, and the
  // median over repetitions is reported.
  struct Case {
    const char* name;
    std::vector<double> per_step, speedup, fraction;
    std::vector<int64_t> seq;
  };
  std::vector<Case> cases{
      {"update_min_distances"}, {"update_min_distances_torch_order"}, {"greedy_coreset"}};
  std::vector<double> base_per_step, bws;
  std::vector<int64_t> want;
  for (int rep = 0; rep < reps; ++rep) {
    const double bw = read_bandwidth(2);
    const auto tb = tc::bench::time_it([&] { want = torch_loop(x, 0, base_steps); }, 1, 0);
    const auto t0 = tc::bench::time_it(
        [&] { cases[0].seq = kernel_loop(x, 0, steps, update_min_distances); }, 1, 0);
    const auto t1 = tc::bench::time_it(
        [&] { cases[1].seq = kernel_loop(x, 0, steps, update_min_distances_torch_order); }, 1, 0);
    const auto t2 = tc::bench::time_it(
        [&] {
          const auto sel = greedy_coreset(x, o, *comm);
          cases[2].seq.assign(sel.data_ptr<int64_t>(), sel.data_ptr<int64_t>() + sel.numel());
        },
        1, 0);
    const double base = tb.median_s / base_steps;
    base_per_step.push_back(base);
    bws.push_back(bw);
    const double secs[3] = {t0.median_s, t1.median_s, t2.median_s};
    for (int c = 0; c < 3; ++c) {
      const double per = secs[c] / steps;
      cases[c].per_step.push_back(per);
      cases[c].speedup.push_back(base / per);
      cases[c].fraction.push_back(step_bytes / per / bw);
    }
    std::printf(
        "rep %d: bandwidth %.1f GB/s, baseline %.2f ms/step, ours %.2f / %.2f / %.2f ms/step\n",
        rep, bw / 1e9, base * 1e3, secs[0] / steps * 1e3, secs[1] / steps * 1e3,
        secs[2] / steps * 1e3);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  // The official code after ours; then ours again from its first index.
  const std::string official_src = tc::bench::arg_text(argc, argv, "--official-src", "");
  double official_per_step = 0;
  std::string same_as_official = "-";
  if (!official_src.empty()) {
    const auto off =
        tc::bench::run_official(official_src, "greedy", x, threads, 1, {{"steps", base_steps}});
    official_per_step = off.median_s / base_steps;
    const auto official = off.outputs.at("indices");
    CoresetOptions from_theirs = o;
    from_theirs.start_index = official[0].item<int64_t>();
    from_theirs.ratio = static_cast<double>(base_steps + 1) / n + 1e-12;
    same_as_official = torch::equal(greedy_coreset(x, from_theirs, *comm), official) ? "yes" : "NO";
  }
  tc::bench::CsvReport csv(
      "coreset",
      "utc,case,threads,rows,dim,steps,reps,per_step_ms,baseline_per_step_ms,speedup_median,"
      "GB_per_s,mem_read_GB_per_s,bandwidth_fraction_median,same_sequence_as_baseline,"
      "official_per_step_ms,speedup_vs_official,same_sequence_as_official");
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  for (const auto& c : cases) {
    const double per = median(c.per_step);
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s,%s,%d,%lld,%lld,%lld,%d,%.4f,%.4f,%.2f,%.2f,%.2f,%.3f,%s,%.4f,%.2f,%s", stamp,
                  c.name, threads, static_cast<long long>(n), static_cast<long long>(d),
                  static_cast<long long>(steps), reps, per * 1e3, median(base_per_step) * 1e3,
                  median(c.speedup), step_bytes / per / 1e9, median(bws) / 1e9, median(c.fraction),
                  same_prefix(c.seq, want) ? "yes" : "NO", official_per_step * 1e3,
                  official_per_step > 0 ? official_per_step / per : 0.0, same_as_official.c_str());
    csv.row(line);
  }
  std::printf("update_min_distances vs torch-order sequences over %lld steps: %s\n",
              static_cast<long long>(steps),
              cases[0].seq == cases[1].seq ? "identical" : "DIFFERENT");
  return 0;
}
