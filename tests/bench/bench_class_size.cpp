// Class sizes (trim_min + mode) for N = 3000 clustered embeddings of dim 2048:
// select_tail (blocked rows, per-column vote tallies) against a straightforward
// implementation of the same algorithm (dense N x N similarity, a full sort of
// every row, the dense int64 count map, a per-column sort for the mode), both
// with the same thread count. Each variant runs in a forked child so that its
// peak memory (VmHWM minus the RSS at fork) is its own.
//
//   build-x/tests/bench/bench_class_size [N] [E]    (run from the repository root)
#include <ATen/Parallel.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "driver.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/class_size.h"

namespace {

double rss_mib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::string(key).size())) / 1024.0;
  return 0;
}

// Non-negative clusters with Pareto-like sizes (like avgpool embeddings).
torch::Tensor clustered(int64_t n, int64_t dim) {
  torch::manual_seed(5);
  std::vector<torch::Tensor> parts;
  int64_t left = n;
  for (int64_t k = 0; left > 0; ++k) {
    const int64_t size = std::min(left, std::max<int64_t>(1, static_cast<int64_t>(n * 0.35 / std::pow(1.6, k))));
    parts.push_back(torch::relu(torch::randn({1, dim}) + 0.5).repeat({size, 1}) + 0.35 * torch::rand({size, dim}));
    left -= size;
  }
  return torch::cat(parts);
}

// The straightforward algorithm, written as the reference reads.
torch::Tensor dense_trim_min_mode(const torch::Tensor& x) {
  const int64_t N = x.size(0);
  const auto xn = x / x.norm(2, 1, true).clamp_min(1e-12);
  const auto S = xn.mm(xn.t()).contiguous();  // N x N
  auto th = torch::empty({N, 1}, torch::kFloat32);
  const float* s = S.data_ptr<float>();
  float* t = th.data_ptr<float>();
  at::parallel_for(0, N, 1, [&](int64_t i0, int64_t i1) {
    std::vector<int64_t> q(N);
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t j = 0; j < N; ++j) q[j] = static_cast<int64_t>(static_cast<float>(N) * s[i * N + j]);
      std::sort(q.begin(), q.end());
      std::vector<float> v(N), h;
      for (int64_t j = 0; j < N; ++j) v[j] = static_cast<float>(q[j]) / static_cast<float>(N);
      const float half = std::cos(std::acos(v[0]) / 2.0f);
      for (float e : v)
        if (e > half) h.push_back(e);
      const int64_t L = h.size(), k = static_cast<int64_t>(L * 0.85);
      t[i] = L == 0 ? v.back() : h[k >= 1 ? L - k : 0];
    }
  });
  const auto mask = S >= th;
  const auto count_map = (mask.to(torch::kInt64) * mask.sum(1, true)).contiguous();  // N x N int64
  auto cs = torch::empty({N}, torch::kFloat32);
  const int64_t* c = count_map.data_ptr<int64_t>();
  float* o = cs.data_ptr<float>();
  at::parallel_for(0, N, 1, [&](int64_t j0, int64_t j1) {
    std::vector<int64_t> col;
    for (int64_t j = j0; j < j1; ++j) {
      col.clear();
      for (int64_t i = 0; i < N; ++i)
        if (c[i * N + j] != 0) col.push_back(c[i * N + j]);
      std::sort(col.begin(), col.end());
      int64_t best = 0, best_n = 0;
      for (size_t a = 0; a < col.size();) {
        size_t b = a;
        while (b < col.size() && col[b] == col[a]) ++b;
        if (static_cast<int64_t>(b - a) > best_n) best = col[a], best_n = b - a;
        a = b;
      }
      o[j] = static_cast<float>(best);
    }
  });
  return cs;
}

struct Run {
  double min_s = 0, median_s = 0, peak_mib = 0;
  std::vector<float> class_sizes;
};

// Runs fn in a forked child: times it (1 warm-up, 3 repetitions), measures the
// child's peak RSS above its RSS at the start, and sends back the class sizes.
template <class Fn>
Run in_child(int64_t n, Fn fn) {
  int fd[2];
  if (pipe(fd) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const double base = rss_mib("VmRSS:");
    torch::Tensor cs;
    const auto timing = tc::bench::time_it([&] { cs = fn(); }, 3, 1);
    Run r{timing.min_s, timing.median_s, tc::bench::peak_rss_mib() - base, {}};
    (void)!write(fd[1], &r, sizeof(double) * 3);
    (void)!write(fd[1], cs.contiguous().data_ptr<float>(), sizeof(float) * n);
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  Run r;
  double head[3];
  (void)!read(fd[0], head, sizeof(head));
  r.min_s = head[0], r.median_s = head[1], r.peak_mib = head[2];
  r.class_sizes.resize(n);
  size_t got = 0;
  while (got < sizeof(float) * n) {
    const ssize_t k = read(fd[0], reinterpret_cast<char*>(r.class_sizes.data()) + got, sizeof(float) * n - got);
    if (k <= 0) break;
    got += k;
  }
  close(fd[0]);
  waitpid(pid, nullptr, 0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t N = argc > 1 ? std::stoll(argv[1]) : 3000, E = argc > 2 ? std::stoll(argv[2]) : 2048;
  tc::core::set_thread_count(0);
  const int threads = at::get_num_threads();
  const auto x = clustered(N, E);
  auto comm = tc::dist::make_self_comm();
  const auto dense = in_child(N, [&] { return dense_trim_min_mode(x); });
  tc::bench::CsvReport csv("class_size", "variant,n,dim,threads,block_rows,min_s,median_s,peak_mib,speedup,identical,tail");
  char line[256];
  std::snprintf(line, sizeof line, "dense_baseline,%lld,%lld,%d,%lld,%.4f,%.4f,%.1f,1.00,1,-", (long long)N,
                (long long)E, threads, (long long)N, dense.min_s, dense.median_s, dense.peak_mib);
  csv.row(line);
  for (int64_t block : {int64_t{4096}, int64_t{512}}) {
    tc::sampling::ClassSizeOptions o;  // trim_min + mode
    o.block_rows = block;
    const auto ours = in_child(N, [&] { return tc::sampling::select_tail(x, o, *comm).class_sizes; });
    const bool same = ours.class_sizes == dense.class_sizes;
    const auto tail = tc::sampling::select_tail(x, o, *comm).tail_indices.size(0);
    std::snprintf(line, sizeof line, "select_tail,%lld,%lld,%d,%lld,%.4f,%.4f,%.1f,%.2f,%d,%lld", (long long)N,
                  (long long)E, threads, (long long)block, ours.min_s, ours.median_s, ours.peak_mib,
                  dense.min_s / ours.min_s, same ? 1 : 0, (long long)tail);
    csv.row(line);
  }
  return 0;
}
