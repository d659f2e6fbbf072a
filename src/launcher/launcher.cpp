// `tailedcore`: sets the environment the OpenMP runtime reads when it loads,
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
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
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
