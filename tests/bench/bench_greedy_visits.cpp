// Rows a greedy step visits on a realistic bank (results/bench/greedy_visits.md):
// the rows of features.h5 projected as greedy_bank projects them
// (sampling::project, --proj-dim, --seed), the first centre drawn as
// `tailedcore coreset` draws it, then, in one run:
//  - the machine's read bandwidth (bandwidth.h) and the full-pass read floor
//    of the whole greedy: steps x rows x 132 bytes (a row and its
//    min-distance) at that bandwidth;
//  - a plain pass over every row for --plain-steps steps (the stream: the
//    torch-order kernel on --threads threads), its time a step;
//  - the whole greedy with the cell stepper (GreedyStepper): time, rows
//    visited, read and centre distances a step, against the step index
//    (--curve CSV, one line per 1 % of the steps); its first picks must equal
//    the plain pass's;
//  - with --official-src DIR: the official brute-force loop for
//    --official-steps steps (official_baseline.py) and our picks from its
//    first index against its picks.
// --picks FILE writes the picks (int64, raw) for comparison with
// `tailedcore coreset` runs (tests/bench/greedy_visits.sh).
//
//   bench_greedy_visits --features F.h5 [--ratio 0.1] [--threads 2] [--seed 0]
//       [--proj-dim 128] [--plain-steps 200] [--official-src DIR]
//       [--official-steps 100] [--curve FILE.csv] [--picks FILE]
#include <omp.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "bandwidth.h"
#include "driver.h"
#include "official.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/greedy_kernel.h"
#include "tailedcore/sampling/greedy_stepper.h"
#include "tailedcore/sampling/projection.h"

using namespace tc::sampling;
using tc::bench::arg;
using tc::bench::arg_text;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

torch::Tensor projected_rows(const std::string& path, int64_t proj_dim, uint64_t seed) {
  tc::io::H5Reader in(path);
  const auto shape = in.shape("features");
  const int64_t n = shape.at(0), block = 65536;
  const int64_t d = proj_dim > 0 && proj_dim != shape.at(1) ? proj_dim : shape.at(1);
  auto out = torch::empty({n, d}, torch::kFloat32);
  for (int64_t s = 0; s < n; s += block) {
    const int64_t c = std::min(block, n - s);
    const auto rows = in.read_rows("features", s, c).to(torch::kFloat32);
    out.narrow(0, s, c).copy_(d == shape.at(1) ? rows : project(rows, proj_dim, seed, s));
  }
  return out;
}

// Steps of the greedy from `first` with `step(centre) -> BlockMax`.
template <class Step>
std::vector<int64_t> run_steps(const torch::Tensor& x, int64_t first, int64_t steps, Step step) {
  std::vector<int64_t> sel{first};
  const float* rows = x.data_ptr<float>();
  for (int64_t s = 0; s < steps; ++s) sel.push_back(step(rows + sel.back() * x.size(1)).index);
  return sel;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = tc::core::set_thread_count(static_cast<int>(arg(argc, argv, "--threads", 2)));
  const std::string features = arg_text(argc, argv, "--features", "");
  if (features.empty()) {
    std::fprintf(stderr, "bench_greedy_visits: --features FILE is required\n");
    return 2;
  }
  const double ratio = std::stod(arg_text(argc, argv, "--ratio", "0.1"));
  CoresetOptions o;
  o.seed = static_cast<uint64_t>(arg(argc, argv, "--seed", 0));
  o.proj_dim = arg(argc, argv, "--proj-dim", 128);
  const int64_t plain_steps = arg(argc, argv, "--plain-steps", 200);
  const auto t_load = now_s();
  const auto x = projected_rows(features, o.proj_dim, o.seed);
  const int64_t n = x.size(0), d = x.size(1);
  const int64_t m = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * ratio));
  const int64_t first = first_centre(n, o);
  std::printf(
      "bank: %s: %lld rows x %lld (projected in %.1f s), ratio %g: %lld steps, %d threads\n",
      features.c_str(), static_cast<long long>(n), static_cast<long long>(d), now_s() - t_load,
      ratio, static_cast<long long>(m - 1), threads);

  const double bw = tc::bench::read_bandwidth(3);
  const double row_bytes = d * 4.0 + 4.0;  // a row and its min-distance
  const double pass_floor_s = n * row_bytes / bw;
  std::printf("read bandwidth: %.2f GB/s; a full pass reads %.1f MB: %.3f ms at it\n", bw / 1e9,
              n * row_bytes / 1e6, pass_floor_s * 1e3);

  // The stream: every row every step.
  std::vector<float> plain_md(n, std::numeric_limits<float>::infinity());
  const auto t_plain = now_s();
  const auto plain = run_steps(x, first, plain_steps, [&](const float* c) {
    return update_min_distances_torch_order(x.data_ptr<float>(), n, d, c, plain_md.data(), threads);
  });
  const double plain_step_s = (now_s() - t_plain) / plain_steps;
  std::printf("plain pass: %.3f ms a step (%.2f x the read floor of a pass)\n", plain_step_s * 1e3,
              plain_step_s / pass_floor_s);

  // The whole greedy with the cell stepper.
  std::vector<float> md(n, std::numeric_limits<float>::infinity());
  GreedyStepper stepper(x.data_ptr<float>(), n, d);
  const int64_t buckets = std::min<int64_t>(100, std::max<int64_t>(1, m - 1));
  struct Bucket {
    int64_t first = -1, steps = 0;
    GreedyVisits at_start;
    double seconds = 0;
  };
  std::vector<Bucket> curve(buckets);
  std::vector<int64_t> sel{first};
  const float* rows = x.data_ptr<float>();
  const auto t_cells = now_s();
  for (int64_t s = 0; s + 1 < m; ++s) {
    Bucket& b = curve[s * buckets / (m - 1)];
    if (b.first < 0) b.first = s, b.at_start = stepper.visits();
    const auto t0 = now_s();
    sel.push_back(stepper.step(rows + sel.back() * d, md.data(), threads).index);
    b.seconds += now_s() - t0;
    ++b.steps;
  }
  const double cells_s = now_s() - t_cells;
  const GreedyVisits v = stepper.visits();
  const double steps = static_cast<double>(std::max<int64_t>(1, m - 1));
  const double floor_s = steps * pass_floor_s;
  bool same_as_plain = true;
  for (size_t i = 0; i < plain.size() && i < sel.size(); ++i) same_as_plain &= plain[i] == sel[i];
  std::printf(
      "cells: %.2f s for %lld steps (%.3f ms a step); rows visited a step %.0f (%.3f %% of a pass; "
      "%.1fx fewer than full passes), read %.0f, centre distances %.0f, members tested %.0f\n",
      cells_s, static_cast<long long>(m - 1), cells_s / steps * 1e3, v.rows_visited / steps,
      100.0 * v.rows_visited / steps / n, steps * n / static_cast<double>(v.rows_visited),
      v.rows_read / steps, v.centres_measured / steps, v.members_tested / steps);
  std::printf(
      "full-pass read floor of the greedy: %.1f s; cells: %.3fx of it; plain pass measured: "
      "%.1f s (%.2fx the floor); first %lld picks same as the plain pass: %s\n",
      floor_s, cells_s / floor_s, plain_step_s * steps, plain_step_s * steps / floor_s,
      static_cast<long long>(plain.size()), same_as_plain ? "yes" : "NO");

  const std::string curve_path = arg_text(argc, argv, "--curve", "");
  if (!curve_path.empty()) {
    std::ofstream out(curve_path);
    out << "first_step,steps,rows_visited_per_step,visited_fraction,rows_read_per_step,"
           "centre_distances_per_step,ms_per_step\n";
    for (size_t i = 0; i < curve.size(); ++i) {
      const Bucket& b = curve[i];
      if (b.steps == 0) continue;
      const GreedyVisits end = i + 1 < curve.size() && curve[i + 1].first >= 0
                                   ? curve[i + 1].at_start
                                   : stepper.visits();
      const double k = static_cast<double>(b.steps);
      out << b.first << ',' << b.steps << ',' << (end.rows_visited - b.at_start.rows_visited) / k
          << ',' << (end.rows_visited - b.at_start.rows_visited) / k / n << ','
          << (end.rows_read - b.at_start.rows_read) / k << ','
          << (end.centres_measured - b.at_start.centres_measured) / k << ',' << b.seconds / k * 1e3
          << '\n';
    }
  }
  const std::string picks_path = arg_text(argc, argv, "--picks", "");
  if (!picks_path.empty()) {
    std::ofstream out(picks_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(sel.data()),
              static_cast<std::streamsize>(sel.size() * sizeof(int64_t)));
  }

  const std::string official_src = arg_text(argc, argv, "--official-src", "");
  if (!official_src.empty()) {
    const int64_t os = arg(argc, argv, "--official-steps", 100);
    const auto off =
        tc::bench::run_official(official_src, "greedy", x, threads, 1, {{"steps", os}});
    const auto theirs = off.outputs.at("indices");
    std::vector<float> omd(n, std::numeric_limits<float>::infinity());
    GreedyStepper from_theirs(x.data_ptr<float>(), n, d);
    const auto ours = run_steps(x, theirs[0].item<int64_t>(), os, [&](const float* c) {
      return from_theirs.step(c, omd.data(), threads);
    });
    bool same = static_cast<int64_t>(ours.size()) == theirs.size(0);
    for (size_t i = 0; same && i < ours.size(); ++i) same = ours[i] == theirs[i].item<int64_t>();
    std::printf(
        "official loop: %.1f ms a step over %lld steps (%.1fx the cells' mean step); "
        "same picks: %s\n",
        off.median_s / os * 1e3, static_cast<long long>(os), off.median_s / os / (cells_s / steps),
        same ? "yes" : "NO");
  }
  return same_as_plain ? 0 : 1;
}
