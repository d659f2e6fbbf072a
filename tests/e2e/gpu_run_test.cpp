// One run on the GPU against the same run on the CPU (issue 13): the
// executable, TailedCore on a tiny synthetic noisy long-tail tree, with
// model.device=cuda and model.device=cpu. Image and pixel AUROC per class must
// agree within 0.1 point; the coreset may differ only after near-ties (the
// test prints how much of it does). Skips without a CUDA device and a CUDA
// LibTorch (CI); launch/gpu_check.sh runs it on a GPU machine.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <sstream>

#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;

namespace {

// As tests/e2e/run_test.cpp: 84 px crops keep each run to seconds.
const std::string kSmall = " --set data.resize=96 --set data.imagesize=84 --set data.inputsize=84";

struct Auroc {
  double image, pixel;
};

std::map<std::string, Auroc> read_metrics(const fs::path& csv) {
  std::istringstream in(tc::io::read_text(csv));
  std::string line;
  std::getline(in, line);  // header: class,image_auroc,pixel_auroc,...
  std::map<std::string, Auroc> out;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cls, image, pixel;
    std::getline(row, cls, ',');
    std::getline(row, image, ',');
    std::getline(row, pixel, ',');
    out[cls] = {std::stod(image), std::stod(pixel)};
  }
  return out;
}

TEST(GpuRun, MatchesTheCpuRunWithinATenthOfAPoint) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (or a CPU-only LibTorch)";
  tc::testing::TempDir dir;
  const auto r1 = run_cli("synth --layout small --seed 0 --dest " + (dir / "small").string());
  ASSERT_EQ(r1.exit_code, 0) << r1.output;
  const fs::path data = dir / "small-pareto";
  const auto r2 = run_cli("nlt make --source " + (dir / "small").string() + " --dest " +
                          data.string() + " --profile pareto --noise-ratio 0.1 --seed 1");
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  const fs::path config = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  std::map<std::string, fs::path> runs;
  for (const std::string device : {"cpu", "cuda"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_cli("run -c " + config.string() + " --data " + data.string() + " --out " +
                           (dir / "results").string() + " --run-id " + device +
                           " --set model.device=" + device + kSmall + " --pictures 0");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::printf("[ info ] run on %s: %.1f s (executable, features to metrics)\n", device.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (device == "cuda") EXPECT_NE(r.output.find(" device cuda:"), std::string::npos) << r.output;
    runs[device] = dir / "results" / "small-pareto" / "quickstart" / device;
  }
  const auto cpu = read_metrics(runs["cpu"] / "metrics.csv"),
             gpu = read_metrics(runs["cuda"] / "metrics.csv");
  ASSERT_EQ(cpu.size(), gpu.size());
  ASSERT_GE(cpu.size(), 2u);  // classes and the mean
  for (const auto& [cls, c] : cpu) {
    ASSERT_TRUE(gpu.count(cls)) << cls;
    const auto& g = gpu.at(cls);
    std::printf("[ info ] %-12s image AUROC cpu %.4f gpu %.4f | pixel AUROC cpu %.4f gpu %.4f\n",
                cls.c_str(), c.image, g.image, c.pixel, g.pixel);
    EXPECT_NEAR(g.image, c.image, 0.1) << cls;
    EXPECT_NEAR(g.pixel, c.pixel, 0.1) << cls;
  }
  // How much of the coreset the GPU chose differently (reported, not required to be 0).
  const tc::io::H5Reader a(runs["cpu"] / "coreset.h5"), b(runs["cuda"] / "coreset.h5");
  const auto ia = a.read("coreset_indices"), ib = b.read("coreset_indices");
  ASSERT_EQ(ia.sizes(), ib.sizes());
  const auto diff = (ia != ib).nonzero();
  const int64_t first = diff.size(0) ? diff[0][0].item<int64_t>() : ia.size(0);
  std::printf("[ info ] coreset: %lld rows, %lld differ, first difference at %lld\n",
              static_cast<long long>(ia.size(0)), static_cast<long long>(diff.size(0)),
              static_cast<long long>(first));
}

}  // namespace
