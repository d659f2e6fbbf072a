// `tailedcore lof` and `tailedcore coreset` on a hand-made features.h5: the
// files they write equal the library's results, SoftPatch weights are the LOF
// scores of the chosen rows, and bad input fails with one line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "testing.h"

using tc::testing::run_cli;

namespace {

constexpr int64_t kImages = 12, kH = 3, kW = 4, kDim = 24;

torch::Tensor write_features(const std::filesystem::path& path) {
  torch::manual_seed(3);
  const auto f = torch::randn({kImages * kH * kW, kDim}).relu();
  tc::io::H5Writer w(path, "features", "test");
  w.write("features", f);
  w.write("embeddings", torch::randn({kImages, 8}));
  w.set_attr("feature_h", kH);
  w.set_attr("feature_w", kW);
  w.commit();
  return f;
}

TEST(SamplingStages, LofThenCoresetWithWeights) {
  tc::testing::TempDir dir;
  const auto feats = write_features(dir / "features.h5");
  const auto lof_path = (dir / "lof.h5").string();
  auto r = run_cli("lof --in " + (dir / "features.h5").string() + " --out " + lof_path +
                   " --greedy_proj_dim 8 --seed 5 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto comm = tc::dist::make_self_comm();
  tc::sampling::LofOptions lo;
  lo.proj_dim = 8;
  lo.seed = 5;
  const auto want = tc::sampling::patchwise_lof(feats, kH * kW, lo, *comm);
  tc::io::H5Reader lof(lof_path);
  EXPECT_TRUE(torch::allclose(lof.read("lof_scores"), want.scores));
  EXPECT_TRUE(torch::equal(lof.read("kept_indices"), want.kept_indices));

  // PatchCore: every row, no weights.
  r = run_cli("coreset --in " + (dir / "features.h5").string() + " --out " +
              (dir / "pc.h5").string() +
              " --greedy_ratio 0.1 --greedy_proj_dim 0 --start-index 4 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  tc::sampling::CoresetOptions co;
  co.proj_dim = 0;
  co.start_index = 4;
  const auto sel = tc::sampling::greedy_coreset(feats, co, *comm);
  tc::io::H5Reader pc(dir / "pc.h5");
  EXPECT_TRUE(torch::equal(pc.read("coreset_indices"), sel));
  EXPECT_TRUE(torch::equal(pc.read("coreset"), feats.index_select(0, sel)));
  EXPECT_FALSE(pc.has("weights"));

  // SoftPatch: greedy over the kept rows; indices point into the input rows; weights = LOF scores.
  r = run_cli("coreset --in " + (dir / "features.h5").string() + " --out " +
              (dir / "sp.h5").string() +
              " --greedy_ratio 0.2 --greedy_proj_dim 0 --start-index 0 --weights " + lof_path +
              " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  tc::io::H5Reader sp(dir / "sp.h5");
  const auto idx = sp.read("coreset_indices");
  co.ratio = 0.2;
  co.start_index = 0;
  const auto kept_sel =
      tc::sampling::greedy_coreset(feats.index_select(0, want.kept_indices), co, *comm);
  EXPECT_TRUE(torch::equal(idx, want.kept_indices.index_select(0, kept_sel)));
  EXPECT_TRUE(torch::equal(sp.read("coreset"), feats.index_select(0, idx)));
  ASSERT_TRUE(sp.has("weights"));
  // The weights are lof.h5's scores of the chosen rows, as written (the
  // library's scores agree to rounding above: the launcher may run other
  // OpenBLAS kernels than this process).
  EXPECT_TRUE(torch::equal(sp.read("weights"), lof.read("lof_scores").index_select(0, idx)));
}

TEST(SamplingStages, BadRatioAndMissingAttributesFailWithOneLine) {
  tc::testing::TempDir dir;
  write_features(dir / "features.h5");
  auto r = run_cli("coreset --in " + (dir / "features.h5").string() + " --out " +
                   (dir / "c.h5").string() + " --greedy_ratio 1.5 --threads 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("1.5"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "c.h5"));

  tc::io::H5Writer w(dir / "bare.h5", "features", "test");
  w.write("features", torch::randn({12, 4}));
  w.commit();
  r = run_cli("lof --in " + (dir / "bare.h5").string() + " --out " + (dir / "l.h5").string() +
              " --threads 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("feature_h"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "l.h5"));
}

}  // namespace
