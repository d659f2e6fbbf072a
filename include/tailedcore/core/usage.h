// What this process has used so far, for the stage log lines and the scaling
// benchmark (tests/bench/scaling_rss.sh): bytes read through read(2) and
// friends (/proc/self/io rchar: files and sockets alike, page cache or not)
// and the peak resident set (/proc/self/status VmHWM).
#pragma once

#include <cstdint>

namespace tc::core {

struct Usage {
  int64_t bytes_read = -1;  // -1 where /proc does not say
  int64_t peak_rss = -1;    // bytes
};

Usage usage();

}  // namespace tc::core
