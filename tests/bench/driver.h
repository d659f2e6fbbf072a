// The small driver every benchmark shares (after nccl-tests' table of
// collectives): warm-up, repetitions, min/median seconds, a correctness flag,
// and one CSV row per case under results/bench/.
//
// A benchmark compares a candidate with a baseline measured in the same run
// and reports the ratio, since machines are noisy.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace tc::bench {

struct Timing {
  double min_s = 0;
  double median_s = 0;
};

/// The integer after `--name` on the command line, or `fallback`.
inline int64_t arg(int argc, char** argv, const char* name, int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::stoll(argv[i + 1]);
  return fallback;
}

/// The text after `--name` on the command line, or `fallback`.
inline std::string arg_text(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

/// Runs `fn` `warmup` times untimed, then `reps` times timed.
inline Timing time_it(const std::function<void()>& fn, int reps = 3, int warmup = 1) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> s;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return {s.front(), s[s.size() / 2]};
}

/// Peak resident set size of this process so far, in MiB (VmHWM).
inline double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

/// Appends rows to results/bench/<name>.csv (header written when the file is new)
/// and echoes them to stdout.
class CsvReport {
 public:
  CsvReport(const std::string& name, const std::string& header)
      : path_(std::filesystem::path("results/bench") / (name + ".csv")) {
    std::filesystem::create_directories(path_.parent_path());
    const bool fresh = !std::filesystem::exists(path_);
    out_.open(path_, std::ios::app);
    if (fresh) out_ << header << "\n";
    std::printf("%s\n", header.c_str());
  }
  void row(const std::string& line) {
    out_ << line << "\n";
    out_.flush();
    std::printf("%s\n", line.c_str());
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace tc::bench
