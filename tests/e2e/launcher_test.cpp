// The `tailedcore` launcher: it sets OMP_WAIT_POLICY and glibc's malloc
// thresholds before the OpenMP runtime and malloc read them (unless the user
// set them) and becomes tailedcore-core beside it.
#include <gtest/gtest.h>

#include <filesystem>

#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_command;

namespace {

const std::string cli() { return tc::testing::cli_path().string(); }

TEST(Launcher, SetsPassiveWaitUnlessTheUserChose) {
  auto r = run_command("env -u OMP_WAIT_POLICY " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY=PASSIVE"), std::string::npos) << r.output;
  r = run_command("OMP_WAIT_POLICY=ACTIVE " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY=ACTIVE"), std::string::npos) << r.output;
}

TEST(Launcher, KeepsFreedBlocksInTheHeapUnlessTheUserChose) {
  auto r =
      run_command("env -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824"),
            std::string::npos)
      << r.output;
  r = run_command("MALLOC_MMAP_THRESHOLD_=65536 " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("MALLOC_MMAP_THRESHOLD_=65536 "), std::string::npos) << r.output;
}

TEST(Launcher, RunsBlasKernelsTheCpuHasUnlessTheUserChose) {
  auto r = run_command("env -u OPENBLAS_CORETYPE " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_NE(r.output.find("BLAS: OpenBLAS kernels "), std::string::npos) << r.output;
#if defined(__x86_64__)
  // OpenBLAS 0.3.21's fallback for a CPU it does not know, SSE3 only.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    EXPECT_EQ(r.output.find("kernels Prescott"), std::string::npos) << r.output;
#endif
  r = run_command("OPENBLAS_CORETYPE=Prescott " + cli() + " version");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kernels Prescott (OPENBLAS_CORETYPE=Prescott)"), std::string::npos)
      << r.output;
}

TEST(Launcher, WithoutTheCoreBesideItSaysWhichFile) {
  tc::testing::TempDir dir;
  fs::copy_file(cli(), dir / "tailedcore");
  const auto r = run_command((dir / "tailedcore").string() + " version");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find((dir / "tailedcore-core").string() + ": cannot run"), std::string::npos)
      << r.output;
}

}  // namespace
