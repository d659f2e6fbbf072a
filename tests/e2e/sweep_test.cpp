// `tailedcore sweep`: three seeds on a synthetic variant, summarised as mean ± std.
#include <gtest/gtest.h>

#include <sstream>

#include "tailedcore/io/files.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;

namespace {

TEST(Sweep, ThreeSeedsGiveAMeanAndStdTable) {
  tc::testing::TempDir dir;
  ASSERT_EQ(run_cli("synth --layout small --size 48 --dest " + (dir / "small").string()).exit_code,
            0);
  ASSERT_EQ(run_cli("nlt make --source " + (dir / "small").string() + " --dest " +
                    (dir / "v1").string() + " --seed 1")
                .exit_code,
            0);
  const auto config = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  const auto r =
      run_cli("sweep -c " + config.string() + " --data " + (dir / "v1").string() +
              " --seeds 0-2 --out " + (dir / "out").string() +
              " --set model.coreset_model_name=patchcore --set data.resize=48"
              " --set data.imagesize=40 --set data.inputsize=40 --set model.greedy_ratio=0.05");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int s = 0; s < 3; ++s)
    EXPECT_TRUE(fs::exists(dir / "out" / "v1" / "quickstart" / ("seed" + std::to_string(s)) /
                           "metrics.csv"));
  // The sweep's own folder, named by its plan's digest: <out>/sweep/<digest>/.
  std::vector<fs::path> sweeps;
  for (const auto& e : fs::directory_iterator(dir / "out" / "sweep")) sweeps.push_back(e.path());
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_NE(r.output.find("summary: " + (sweeps[0] / "summary.md").string()), std::string::npos)
      << r.output;
  const auto md = tc::io::read_text(sweeps[0] / "summary.md");
  EXPECT_NE(md.find("seeds: 0 1 2\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## quickstart (3 runs)"), std::string::npos) << md;
  EXPECT_NE(md.find("| mean |"), std::string::npos) << md;
  EXPECT_NE(md.find(" ± "), std::string::npos);
  const auto csv = tc::io::read_text(sweeps[0] / "summary.csv");
  EXPECT_NE(csv.find("quickstart,mean,image_auroc,"), std::string::npos) << csv;
  // Different seeds draw different projections and first centres: some spread.
  std::istringstream in(csv);
  std::string line;
  bool spread = false;
  while (std::getline(in, line))
    if (line.rfind("quickstart,mean,pixel_auroc,", 0) == 0)
      spread = line.find(",0,3") == std::string::npos;
  EXPECT_TRUE(spread) << csv;
}

}  // namespace
