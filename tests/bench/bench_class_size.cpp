// Class sizes (trim_min + mode) for N = 3000 clustered embeddings of dim 2048:
// select_tail (blocked rows of the exact-rounded similarity, per-column vote
// tallies) against a straightforward
// implementation of the same algorithm (dense N x N similarity, a full sort of
// every row, the dense int64 count map, a per-column sort for the mode), both
// with the same thread count. Each variant runs in its own process (this
// executable with --child) so that its peak memory (VmHWM minus the RSS
// before the run) is its own. With --official-src DIR (a folder holding the
// official repository's src/) the official code itself runs too, through
// official_baseline.py (adaptively_sample_few_shot, trim_min + mode).
//
//   build-x/tests/bench_class_size [N] [E] [--official-src DIR]   (from the repository root)
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "driver.h"
#include "official.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/similarity.h"

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
    const int64_t size =
        std::min(left, std::max<int64_t>(1, static_cast<int64_t>(n * 0.35 / std::pow(1.6, k))));
    parts.push_back(torch::relu(torch::randn({1, dim}) + 0.5).repeat({size, 1}) +
                    0.35 * torch::rand({size, dim}));
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
      for (int64_t j = 0; j < N; ++j)
        q[j] = static_cast<int64_t>(static_cast<float>(N) * s[i * N + j]);
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

// Child mode: makes the data, runs one variant (1 warm-up, 3 timed), writes
// min_s, median_s, peak MiB above the RSS before the run, and the class sizes.
int child(const std::string& variant, int64_t N, int64_t E, int64_t block, const std::string& out) {
  tc::core::set_thread_count(0);
  const auto x = clustered(N, E);
  auto comm = tc::dist::make_self_comm();
  const double base = rss_mib("VmRSS:");
  torch::Tensor cs;
  tc::sampling::ClassSizeOptions o;  // trim_min + mode
  o.block_rows = block;
  const auto timing = tc::bench::time_it(
      [&] {
        if (variant == "dense") {
          cs = dense_trim_min_mode(x);
        } else if (variant == "product_only") {  // the float32 product the reference computes
          const auto xn = x / x.norm(2, 1, true).clamp_min(1e-12);
          cs = xn.mm(xn.t()).select(1, 0).contiguous();
        } else if (variant == "exact_product_only") {  // ours: the floor of select_tail
          const tc::sampling::ExactSimilarity sim(tc::sampling::normalized_rows(x));
          cs = sim.rows(0, N).select(1, 0).contiguous();
        } else {
          cs = tc::sampling::select_tail(x, o, *comm).class_sizes;
        }
      },
      3, 1);
  const double head[3] = {timing.min_s, timing.median_s, tc::bench::peak_rss_mib() - base};
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(head), sizeof head);
  f.write(reinterpret_cast<const char*>(cs.contiguous().data_ptr<float>()), sizeof(float) * N);
  return 0;
}

// Runs a variant in a fresh process (its own peak RSS; no OpenMP pool across a fork).
Run in_child(const std::string& self, const std::string& variant, int64_t N, int64_t E,
             int64_t block) {
  const std::string out =
      "/tmp/bench_class_size_" + std::to_string(getpid()) + "_" + variant + ".bin";
  const std::string cmd = self + " --child " + variant + " " + std::to_string(N) + " " +
                          std::to_string(E) + " " + std::to_string(block) + " " + out;
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "child failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  Run r;
  double head[3];
  std::ifstream f(out, std::ios::binary);
  f.read(reinterpret_cast<char*>(head), sizeof head);
  r.min_s = head[0], r.median_s = head[1], r.peak_mib = head[2];
  r.class_sizes.resize(N);
  f.read(reinterpret_cast<char*>(r.class_sizes.data()), sizeof(float) * N);
  std::remove(out.c_str());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::string(argv[1]) == "--child")
    return child(argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]), argv[6]);
  const bool positional = argc > 2 && argv[1][0] != '-' && argv[2][0] != '-';
  const int64_t N = positional ? std::stoll(argv[1]) : 3000,
                E = positional ? std::stoll(argv[2]) : 2048;
  const std::string official_src = tc::bench::arg_text(argc, argv, "--official-src", "");
  tc::core::set_thread_count(0);
  const int threads = at::get_num_threads();
  const auto dense = in_child(argv[0], "dense", N, E, N);
  const auto product = in_child(argv[0], "product_only", N, E, N);
  const auto exact_product = in_child(argv[0], "exact_product_only", N, E, N);
  std::vector<std::pair<int64_t, Run>> ours;
  for (int64_t block : {int64_t{0}, int64_t{512}})  // 0: the default (N rows a block up to 4096)
    ours.emplace_back(block, in_child(argv[0], "select_tail", N, E, block));
  Run official;
  if (!official_src.empty()) {
    const auto off =
        tc::bench::run_official(official_src, "class_size", clustered(N, E), threads, 3);
    official.min_s = off.min_s, official.median_s = off.median_s, official.peak_mib = off.peak_mib;
    const auto cs = off.outputs.at("class_sizes").to(torch::kFloat32).contiguous();
    official.class_sizes.assign(cs.data_ptr<float>(), cs.data_ptr<float>() + N);
  }

  // speedup: the dense baseline's min time over this variant's; the official
  // code's likewise; differ_dense / differ_official: class sizes that differ
  // from the dense baseline's and the official code's (both on the float32
  // BLAS product of this machine; ours on the exact-rounded similarity), -1
  // where a variant has no class sizes or the official code did not run.
  tc::bench::CsvReport csv("class_size_exact",
                           "variant,n,dim,threads,block_rows,min_s,median_s,peak_mib,speedup,"
                           "speedup_vs_official,differ_dense,differ_official");
  char line[256];
  auto differing = [](const std::vector<float>& a, const std::vector<float>& b) -> long long {
    if (a.size() != b.size()) return -1;
    long long n = 0;
    for (size_t i = 0; i < a.size(); ++i)
      n += !(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])));
    return n;
  };
  auto row = [&](const std::string& variant, int64_t block, const Run& r) {
    const bool sizes = variant.find("product_only") == std::string::npos;
    std::snprintf(
        line, sizeof line, "%s,%lld,%lld,%d,%lld,%.4f,%.4f,%.1f,%.2f,%.2f,%lld,%lld",
        variant.c_str(), (long long)N, (long long)E, threads, (long long)block, r.min_s, r.median_s,
        r.peak_mib, dense.min_s / r.min_s, official.min_s > 0 ? official.min_s / r.min_s : 0.0,
        sizes ? differing(r.class_sizes, dense.class_sizes) : -1,
        sizes && !official.class_sizes.empty() ? differing(r.class_sizes, official.class_sizes)
                                               : -1);
    csv.row(line);
  };
  row("dense_baseline", N, dense);
  row("product_only", N, product);
  row("exact_product_only", N, exact_product);
  for (const auto& [block, r] : ours) row("select_tail", block, r);
  if (!official_src.empty()) row("official_code", N, official);
  return 0;
}
