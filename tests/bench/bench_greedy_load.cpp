// The greedy coreset with 1 and 2 threads on an idle and on a loaded machine
// (issue 10: 2.05 s with 1 thread, 14.2 s with 2 while one other process used
// a core, on a 21,168 x 128 bank at ratio 0.1). "Loaded": this benchmark forks
// a busy loop pinned to CPU 0 for the loaded cases. Cases, each timed back to
// back in every repetition:
//   fixed team N   the step loop with a team of exactly N threads (the loop
//                  before GreedyTeam was "fixed team 2" at 2 threads);
//   greedy_coreset greedy_coreset with an OpenMP team of N (GreedyTeam picks
//                  each step's size from measured step times).
// Every case's index sequence is checked against the 1-thread one.
//
//   build/tests/bench_greedy_load [--rows 21168] [--ratio-permille 100] [--reps 3] [--max-threads 2]
// Appends to results/bench/greedy_load.csv (run from the repository root).
#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "driver.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/coreset.h"

using namespace tc::sampling;

namespace {

using tc::bench::arg;

std::vector<int64_t> fixed_team_loop(const torch::Tensor& x, int64_t steps, int threads) {
  const float* rows = x.data_ptr<float>();
  std::vector<float> mind(x.size(0), std::numeric_limits<float>::infinity());
  std::vector<int64_t> sel{0};
  for (int64_t s = 1; s <= steps; ++s)
    sel.push_back(update_min_distances(rows, x.size(0), x.size(1), rows + sel.back() * x.size(1),
                                       mind.data(), threads)
                      .index);
  return sel;
}

// A process that keeps CPU 0 busy until killed.
pid_t start_busy_loop() {
  const pid_t pid = fork();
  if (pid == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    volatile uint64_t spin = 0;
    for (;;) spin = spin + 1;
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = arg(argc, argv, "--rows", 21168), d = 128;
  const double ratio = static_cast<double>(arg(argc, argv, "--ratio-permille", 100)) / 1000.0;
  const int reps = static_cast<int>(arg(argc, argv, "--reps", 3));
  const int max_threads = static_cast<int>(arg(argc, argv, "--max-threads", 2));
  torch::set_num_threads(1);
  torch::manual_seed(0);
  const auto centres = torch::rand({500, d}) * 2;
  const auto x = (centres.index_select(0, torch::randint(500, {n})) + 0.3 * torch::randn({n, d}))
                     .relu()
                     .contiguous();
  const int64_t m = static_cast<int64_t>(static_cast<double>(n) * ratio), steps = m - 1;
  auto comm = tc::dist::make_self_comm();
  CoresetOptions o;
  o.proj_dim = 0;
  o.start_index = 0;
  o.ratio = ratio;

  tc::bench::CsvReport csv("greedy_load",
                           "utc,condition,case,threads,rows,dim,steps,reps,min_s,median_s,"
                           "vs_1_thread_median,same_sequence");
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::vector<int64_t> want = fixed_team_loop(x, steps, 1);
  for (const char* condition : {"idle", "loaded"}) {
    const pid_t busy = std::string(condition) == "loaded" ? start_busy_loop() : 0;
    if (busy > 0) usleep(200 * 1000);  // let it be scheduled
    double one_thread = 0;
    for (int threads = 1; threads <= max_threads; ++threads) {
      std::vector<int64_t> seq;
      const auto fixed = tc::bench::time_it([&] { seq = fixed_team_loop(x, steps, threads); }, reps, 1);
      const bool fixed_same = seq == want;
      omp_set_num_threads(threads);
      const auto adaptive = tc::bench::time_it(
          [&] {
            const auto sel = greedy_coreset(x, o, *comm);
            seq.assign(sel.data_ptr<int64_t>(), sel.data_ptr<int64_t>() + sel.numel());
          },
          reps, 1);
      const bool adaptive_same = seq == want;
      if (threads == 1) one_thread = fixed.median_s;
      for (const auto& [name, t, same] : {std::tuple{"fixed team", fixed, fixed_same},
                                          std::tuple{"greedy_coreset", adaptive, adaptive_same}}) {
        char line[512];
        std::snprintf(line, sizeof line, "%s,%s,%s,%d,%lld,%lld,%lld,%d,%.3f,%.3f,%.2f,%s", stamp, condition,
                      name, threads, static_cast<long long>(n), static_cast<long long>(d),
                      static_cast<long long>(steps), reps, t.min_s, t.median_s, t.median_s / one_thread,
                      same ? "yes" : "NO");
        csv.row(line);
      }
    }
    if (busy > 0) {
      kill(busy, SIGKILL);
      waitpid(busy, nullptr, 0);
    }
  }
  return 0;
}
