#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>

#include "commands.h"

namespace tc::cli {

int cmd_version(const Args&) {
#ifdef TAILEDCORE_WITH_CUDA
  const char* cuda = "CUDA+NCCL: built";
#else
  const char* cuda = "CUDA+NCCL: not built";
#endif
  // What LibTorch the binary runs with (1.13 CPU in CI, 2.x CUDA on a cluster) and the
  // devices that LibTorch sees (0 with a CPU LibTorch or without a GPU).
  std::printf("tailedcore %s (%s; LibTorch %s, CUDA devices: %zu)\n", TAILEDCORE_VERSION, cuda,
              TORCH_VERSION, static_cast<size_t>(torch::cuda::device_count()));
  // Set by the `tailedcore` launcher unless the user set them (src/launcher).
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  std::printf("OpenMP threads wait: OMP_WAIT_POLICY=%s\n", wait ? wait : "(unset: libgomp spins)");
  const char* mmap = std::getenv("MALLOC_MMAP_THRESHOLD_");
  const char* trim = std::getenv("MALLOC_TRIM_THRESHOLD_");
  std::printf("malloc: MALLOC_MMAP_THRESHOLD_=%s MALLOC_TRIM_THRESHOLD_=%s\n",
              mmap ? mmap : "(unset: glibc's)", trim ? trim : "(unset: glibc's)");
  // The BLAS kernels in use (the launcher names them when OpenBLAS's own pick
  // predates the CPU): looked up, since the BLAS comes in through LibTorch.
  using Corename = char* (*)();
  const auto corename = reinterpret_cast<Corename>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("BLAS: OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s)\n",
              corename ? corename() : "(not OpenBLAS)",
              coretype ? coretype : "(unset: its own pick)");
  return 0;
}

}  // namespace tc::cli
