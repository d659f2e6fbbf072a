#include "tailedcore/core/usage.h"

#include <fstream>
#include <string>

namespace tc::core {

Usage usage() {
  Usage u;
  std::ifstream io("/proc/self/io");
  for (std::string key; io >> key;) {
    int64_t v = 0;
    io >> v;
    if (key == "rchar:") u.bytes_read = v;
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0)
      u.peak_rss = std::stoll(line.substr(6)) * 1024;  // "VmHWM:   1234 kB"
  return u;
}

}  // namespace tc::core
