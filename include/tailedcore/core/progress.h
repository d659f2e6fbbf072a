// Progress of a long loop: a bar on a terminal, periodic plain lines otherwise
// (logs of batch jobs), silent on non-zero ranks unless `all_ranks`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tc::core {

class Progress {
 public:
  /// `total` units of work; `label` names the stage ("extract", "coreset").
  Progress(std::string label, int64_t total, bool all_ranks = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  /// Prints the final line (idempotent; also called by the destructor).
  void finish();

 private:
  void render(bool final_line);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  int last_percent_ = -1;
};

}  // namespace tc::core
