// Logging with a rank prefix and levels, to stderr.
//
// Lines look like "[tailedcore r1/3 INFO] message". By default non-zero ranks
// print warnings and errors only (a job of 64 ranks must not print 64 copies of
// every line); set_log_all_ranks(true) or TAILEDCORE_LOG_ALL_RANKS=1 lifts it.
// The level comes from TAILEDCORE_LOG_LEVEL (debug|info|warn|error) or set_log_level.
#pragma once

#include <string>

#include "tailedcore/core/check.h"

namespace tc::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Records this process's rank for the prefix (set once by the communicator).
void set_log_rank(int rank, int size);
int log_rank();
void set_log_level(LogLevel level);
LogLevel parse_log_level(const std::string& name);
void set_log_all_ranks(bool all);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& message);
/// Also appends every printed line to `path` (a run's run.log); "" stops.
void set_log_file(const std::string& path);
/// A line for the log file only (the fatal error, which main() prints itself).
void log_to_file(LogLevel level, const std::string& message);

template <class... Parts>
void log_debug(const Parts&... p) {
  if (log_enabled(LogLevel::kDebug)) log_line(LogLevel::kDebug, detail::concat(p...));
}
template <class... Parts>
void log_info(const Parts&... p) {
  if (log_enabled(LogLevel::kInfo)) log_line(LogLevel::kInfo, detail::concat(p...));
}
template <class... Parts>
void log_warn(const Parts&... p) {
  if (log_enabled(LogLevel::kWarn)) log_line(LogLevel::kWarn, detail::concat(p...));
}
template <class... Parts>
void log_error(const Parts&... p) {
  if (log_enabled(LogLevel::kError)) log_line(LogLevel::kError, detail::concat(p...));
}

}  // namespace tc::core
