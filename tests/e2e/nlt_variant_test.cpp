// `tailedcore nlt apply --variant NAME`: the official manifests shipped in
// reference/, by name, on a placeholder tree of the MVTec AD layout.
#include <gtest/gtest.h>

#include "data_trees.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::reference_dir;
using tc::testing::run_cli;

TEST(NltVariantCli, AppliesTheOfficialManifestsByName) {
  tc::testing::ScratchDir tmp;
  ASSERT_EQ(tc::testing::make_mvtec_placeholder_tree(reference_dir() / "mvtec_ad_layout.csv",
                                                     tmp / "mvtec"),
            103);
  const std::string src = " --source '" + (tmp / "mvtec").string() + "' --symlink --dest ";
  auto r =
      run_cli("nlt apply --variant mvtec/pareto/seed01" + src + "'" + (tmp / "p1").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int good = 0, injected = 0;
  for (const auto& [cls, c] : tc::testing::train_counts(tmp / "p1")) {
    good += c.first;
    injected += c.second;
  }
  EXPECT_EQ(good, 737);     // SPEC 1.5: 811 training images,
  EXPECT_EQ(injected, 74);  // 74 of them injected defects
  // The same as naming the two files.
  const auto dir = reference_dir() / "manifest/mvtecad-nlt/pareto/seed01";
  r = run_cli("nlt apply --prune-manifest '" + (dir / "prune_good.txt").string() +
              "' --noisy-manifest '" + (dir / "inject_defects.txt").string() + "'" + src + "'" +
              (tmp / "p1b").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(tc::testing::train_counts(tmp / "p1"), tc::testing::train_counts(tmp / "p1b"));
}

TEST(NltVariantCli, BadUseIsOneLine) {
  tc::testing::TempDir tmp;
  auto r = run_cli("nlt apply --variant mvtec/pareto/seed9 --source '" + tmp.path().string() +
                   "' --dest x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--variant 'mvtec/pareto/seed9': expected DATASET/PROFILE/SEED"),
            std::string::npos)
      << r.output;
  r = run_cli("nlt apply --variant mvtec/pareto/seed01 --prune-manifest p --source '" +
              tmp.path().string() + "' --dest x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not both"), std::string::npos) << r.output;
  r = run_cli("nlt apply --variant visa/pareto/seed02 --reference '" + tmp.path().string() +
              "' --source '" + tmp.path().string() + "' --dest x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("visa-nlt/pareto/seed02/prune_good.txt: manifest of variant"),
            std::string::npos)
      << r.output;
}
