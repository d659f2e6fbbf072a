#include "tailedcore/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "tailedcore/core/log.h"

namespace tc::core {

Progress::Progress(std::string label, int64_t total, bool all_ranks)
    : label_(std::move(label)),
      total_(total < 1 ? 1 : total),
      enabled_(all_ranks || log_rank() == 0),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {
  if (!log_enabled(LogLevel::kInfo) && !all_ranks) enabled_ = false;
}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) {
  done_ += n;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const int percent = static_cast<int>(100 * done_ / total_);
  if (tty_) {
    if (percent != last_percent_ || now - last_print_ > std::chrono::milliseconds(500)) {
      last_percent_ = percent;
      last_print_ = now;
      render(false);
    }
  } else if (now - start_ > std::chrono::seconds(5) &&
             (percent / 10 != last_percent_ / 10 || now - last_print_ > std::chrono::seconds(30))) {
    // Plain lines for logs: loops shorter than 5 s stay quiet; then every 10 %
    // or every 30 s, whichever comes first.
    last_percent_ = percent;
    last_print_ = now;
    render(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  // A final plain line only for loops that printed progress (or took a while).
  if (enabled_ && (tty_ || last_percent_ >= 0 ||
                   std::chrono::steady_clock::now() - start_ > std::chrono::seconds(2)))
    render(true);
}

void Progress::render(bool final_line) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? done_ / secs : 0.0;
  const int percent = static_cast<int>(100 * done_ / total_);
  if (tty_) {
    const int width = 30;
    const int filled = static_cast<int>(width * done_ / total_);
    std::string bar(filled > width ? width : filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %.1f/s %.1fs%s", label_.c_str(), bar.c_str(),
                 percent, static_cast<long long>(done_), static_cast<long long>(total_), rate, secs,
                 final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    log_info(label_, ": ", done_, "/", total_, " (", percent, "%) ", rate, "/s, ", secs, " s");
  }
}

}  // namespace tc::core
