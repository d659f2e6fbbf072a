#include "tailedcore/datasets/nlt_variant.h"

#include <gtest/gtest.h>

#include "testing.h"

using namespace tc::datasets;
using tc::testing::error_of;
using tc::testing::reference_dir;

namespace {

// The official release: {mvtec, visa} x {pareto, step_k1, step_k4} x seeds 01..05.
std::vector<std::string> official_variants() {
  std::vector<std::string> out;
  for (const char* dataset : {"mvtec", "visa"})
    for (const char* profile : {"pareto", "step_k1", "step_k4"})
      for (int seed = 1; seed <= 5; ++seed)
        out.push_back(std::string(dataset) + "/" + profile + "/seed0" + std::to_string(seed));
  return out;
}

}  // namespace

TEST(NltVariant, EveryOfficialVariantHasItsTwoManifests) {
  const auto names = official_variants();
  ASSERT_EQ(names.size(), 30u);
  for (const auto& n : names) {
    const auto m = variant_manifests(reference_dir(), n);
    EXPECT_TRUE(std::filesystem::is_regular_file(m.prune_good)) << n;
    EXPECT_TRUE(std::filesystem::is_regular_file(m.inject_defects)) << n;
  }
  const auto m = variant_manifests(reference_dir(), "visa/step_k4/seed03");
  EXPECT_EQ(m.prune_good, reference_dir() / "manifest/visa-nlt/step_k4/seed03/prune_good.txt");
}

TEST(NltVariant, BadNamesSayWhatIsExpected) {
  for (const char* bad : {"mvtec/pareto", "mvtecad/pareto/seed01", "mvtec/step/seed01",
                          "mvtec/pareto/seed06", "mvtec/pareto/seed01/x", ""}) {
    const auto e = error_of([&] { variant_manifests(reference_dir(), bad); });
    EXPECT_NE(e.find("expected DATASET/PROFILE/SEED"), std::string::npos) << bad << ": " << e;
  }
  tc::testing::TempDir tmp;
  const auto e = error_of([&] { variant_manifests(tmp.path(), "mvtec/pareto/seed01"); });
  EXPECT_NE(e.find("mvtecad-nlt/pareto/seed01/prune_good.txt: manifest of variant"),
            std::string::npos)
      << e;
}
