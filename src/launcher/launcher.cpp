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
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int, char** argv) {
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);  // 0: what the user set stays
  setenv("MALLOC_MMAP_THRESHOLD_", "268435456", 0);
  setenv("MALLOC_TRIM_THRESHOLD_", "1073741824", 0);
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
  std::fprintf(stderr, "tailedcore: %s: cannot run (%s): expected the program beside this launcher\n",
               core.c_str(), std::strerror(errno));
  return 1;
}
