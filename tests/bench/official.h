// The official TailedCore code as a benchmark baseline: writes the benchmark's
// input to HDF5, runs official_baseline.py (beside this file) under Debian's
// /usr/bin/python3 on it, and reads back its timing and outputs, so that a
// benchmark reports its speed against the official code in the same run.
#pragma once

#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "tailedcore/io/hdf5.h"

namespace tc::bench {

struct OfficialRun {
  double min_s = 0, median_s = 0, peak_mib = 0;
  std::map<std::string, at::Tensor> outputs;  // the script's datasets
};

/// task "class_size" (x [N, E]), "lof" (x [N * h * w, D], attrs h and w) or
/// "greedy" (x [N, D], attr steps); attrs go on the input dataset.
/// src_root: a folder holding the official repository's src/. Exits with a
/// one-line message when the script fails.
inline OfficialRun run_official(const std::string& src_root, const std::string& task,
                                const at::Tensor& x, int threads, int reps,
                                const std::map<std::string, int64_t>& attrs = {}) {
  namespace fs = std::filesystem;
  const fs::path script = fs::path(TC_BENCH_DIR) / "official_baseline.py";
  const std::string stem = "/tmp/official_" + task + "_" + std::to_string(getpid());
  {
    io::H5Writer in(stem + "_in.h5", "bench_input", "");
    in.write("x", x.to(torch::kFloat32).contiguous());
    for (const auto& [key, value] : attrs) in.set_attr(key, value, "x");
    in.commit();
  }
  const std::string cmd = "/usr/bin/python3 " + script.string() + " " + src_root + " " + task +
                          " " + stem + "_in.h5 " + stem + "_out.h5 " + std::to_string(threads) +
                          " " + std::to_string(reps);
  std::printf("official code: %s\n", cmd.c_str());
  std::fflush(stdout);
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "official baseline failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  OfficialRun r;
  {
    io::H5Reader out(stem + "_out.h5");
    r.min_s = out.attr_double("min_s");
    r.median_s = out.attr_double("median_s");
    r.peak_mib = out.attr_double("peak_mib");
    for (const char* name : {"class_sizes", "scores", "kept", "indices"})
      if (out.has(name)) r.outputs[name] = out.read(name);
  }
  fs::remove(stem + "_in.h5");
  fs::remove(stem + "_out.h5");
  return r;
}

}  // namespace tc::bench
