#include <cstdio>

#include "commands.h"

namespace tc::cli {

int cmd_version(const Args&) {
#ifdef TAILEDCORE_WITH_CUDA
  const char* cuda = "CUDA+NCCL: built";
#else
  const char* cuda = "CUDA+NCCL: not built";
#endif
  std::printf("tailedcore %s (%s)\n", TAILEDCORE_VERSION, cuda);
  return 0;
}

}  // namespace tc::cli
