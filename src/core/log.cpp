#include "tailedcore/core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace tc::core {
namespace {

LogLevel level_from_env() {
  const char* v = std::getenv("TAILEDCORE_LOG_LEVEL");
  return v ? parse_log_level(v) : LogLevel::kInfo;
}

bool all_ranks_from_env() {
  const char* v = std::getenv("TAILEDCORE_LOG_ALL_RANKS");
  return v && std::string(v) == "1";
}

std::atomic<int> g_rank{0};
std::atomic<int> g_size{1};
std::atomic<int> g_level{static_cast<int>(level_from_env())};
std::atomic<bool> g_all_ranks{all_ranks_from_env()};
std::mutex g_mutex;
FILE* g_file = nullptr;

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void set_log_rank(int rank, int size) {
  g_rank = rank;
  g_size = size;
}
int log_rank() { return g_rank; }
void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
void set_log_all_ranks(bool all) { g_all_ranks = all; }

LogLevel parse_log_level(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  TC_FAIL("log level '", name, "' is unknown: expected debug, info, warn or error");
}

bool log_enabled(LogLevel level) {
  if (static_cast<int>(level) < g_level) return false;
  return g_rank == 0 || g_all_ranks || level >= LogLevel::kWarn;
}

void set_log_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file) std::fclose(g_file);
  g_file = path.empty() ? nullptr : std::fopen(path.c_str(), "a");
  TC_CHECK(path.empty() || g_file, path, ": cannot open the log file for appending");
}

void log_to_file(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_file) return;
  std::fprintf(g_file, "[%s] %s\n", level_name(level), message.c_str());
  std::fflush(g_file);
}

void log_line(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file) {
    std::fprintf(g_file, "[%s] %s\n", level_name(level), message.c_str());
    std::fflush(g_file);
  }
  if (g_size > 1)
    std::fprintf(stderr, "[tailedcore r%d/%d %s] %s\n", g_rank.load(), g_size.load(),
                 level_name(level), message.c_str());
  else
    std::fprintf(stderr, "[tailedcore %s] %s\n", level_name(level), message.c_str());
  std::fflush(stderr);
}

}  // namespace tc::core
