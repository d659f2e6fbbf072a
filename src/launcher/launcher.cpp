// `tailedcore`: sets the environment the OpenMP runtime and malloc read when they load,
// then becomes `tailedcore-core` (the program itself, beside this file).
//
// OpenMP threads that wait at a barrier sleep instead of spinning, unless the
// user set OMP_WAIT_POLICY: on a machine shared with other jobs a spinning
// thread burns the share its descheduled sibling needs (extracting 27 images
// with 2 threads took 10.4 s spinning, 8.0 s sleeping, 8.8 s on 1 thread).
// libgomp reads the variable when it is loaded, before main, and loading
// LibTorch's libraries costs ~0.7 s: this program links none of them, so
// setting the variable and exec'ing costs a millisecond, where the program
// re-executing itself cost a second load of everything.
//
// glibc's malloc keeps freed blocks up to 256 MB in its heap, unless the user
// set MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_: by default a block of
// more than 128 KB-32 MB is a fresh mapping, unmapped when freed, and every
// forward's activations were then zero-filled pages faulted in again. A
// 30-image PatchCore run at 112 px: 3.0-4.3 s wall with 0.8-3.9 s of it in
// the kernel by default, 2.9-3.1 s with 0.65-1.0 s so.
//
// OpenBLAS picks its kernels from the CPU model, and a model newer than the
// library (Debian 12 ships 0.3.21) gets its SSE3 fallback, "Prescott": on a
// recent Xeon with AVX-512 the scores stage of a TailedCore run took 5.8 s so
// and 1.2 s with the SkylakeX kernels. Unless the user set
// OPENBLAS_CORETYPE, a pick that predates AVX2 on a CPU with AVX2 and FMA is
// replaced by the kernels the CPU runs; a CPU OpenBLAS knows keeps its pick
// (and its last bits).
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// OpenBLAS's own pick, asked of the library the program will load (the
// launcher links no BLAS; loading one takes milliseconds): "" when absent.
std::string openblas_pick() {
  void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return "";
  using Corename = char* (*)();
  const auto corename = reinterpret_cast<Corename>(dlsym(lib, "openblas_get_corename"));
  std::string name = corename ? corename() : "";
  dlclose(lib);
  return name;
}

void choose_openblas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  static const char* const kBeforeAvx2[] = {"Prescott",  "Core2",       "Penryn", "Dunnington",
                                            "Nehalem",   "Sandybridge", "Atom",   "Barcelona",
                                            "Bulldozer", "Piledriver"};
  const std::string pick = openblas_pick();
  bool old = false;
  for (const char* k : kBeforeAvx2) old = old || pick == k;
  if (!old) return;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  setenv("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", 0);
#endif
}

}  // namespace

int main(int, char** argv) {
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);  // 0: what the user set stays
  setenv("MALLOC_MMAP_THRESHOLD_", "268435456", 0);
  setenv("MALLOC_TRIM_THRESHOLD_", "1073741824", 0);
  choose_openblas_kernels();
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "tailedcore: /proc/self/exe: cannot read (%s): expected Linux's /proc\n",
                 std::strerror(errno));
    return 1;
  }
  self[n] = '\0';
  std::string core(self);
  core = core.substr(0, core.rfind('/') + 1) + "tailedcore-core";
  execv(core.c_str(), argv);
  std::fprintf(stderr,
               "tailedcore: %s: cannot run (%s): expected the program beside this launcher\n",
               core.c_str(), std::strerror(errno));
  return 1;
}
