// Sampling against numbers computed by the official TailedCore code
// (tests/fixtures/sampling/make_sampling_fixtures.py).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/tailed_lof.h"
#include "testing.h"

using namespace tc::sampling;

namespace {

tc::io::H5Reader& reference() {
  static tc::io::H5Reader r(tc::testing::fixtures_dir() / "sampling" / "reference.h5");
  return r;
}

bool same_sizes(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::equal(torch::isnan(a), torch::isnan(b)) &&
         torch::equal(a.nan_to_num(-1), b.nan_to_num(-1));
}

// The official code with its self-similarity function replaced by the
// exact-rounded one (make_sampling_fixtures.py): identical on every machine.
TEST(ReferenceClassSizes, IdenticalClassSizesAndTailSets) {
  auto comm = tc::dist::make_self_comm();
  int cases = 0;
  for (const std::string set : {"pareto", "step", "tight"}) {
    for (const auto& [th, vote] :
         std::vector<std::pair<std::string, std::string>>{{"trim_min", "mode"},
                                                          {"truncate_min", "mode"},
                                                          {"double_max_step", "none"},
                                                          {"max_step", "mean"},
                                                          {"half_min", "mode"},
                                                          {"trim_min", "mean"},
                                                          {"symmin", "mean"},
                                                          {"symavg", "mean"},
                                                          {"indep", "mean"}}) {
      const std::string g = "class_size/" + set + "_" + th + "_" + vote + "/";
      ClassSizeOptions o;
      o.threshold = tc::sampling::parse_threshold(th);
      o.vote = tc::sampling::parse_vote(vote);
      o.block_rows = 4096;
      const auto got = select_tail(reference().read(g + "embeddings"), o, *comm);
      const auto want = reference().read(g + "class_sizes");
      EXPECT_TRUE(same_sizes(got.class_sizes, want))
          << g << "\nours " << got.class_sizes << "\nref " << want;
      EXPECT_TRUE(torch::equal(got.tail_indices, reference().read(g + "tail_indices"))) << g;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 27);
}

TEST(ReferenceGreedy, IdenticalSelectionSequence) {
  auto comm = tc::dist::make_self_comm();
  for (const std::string name : {"uniform", "clustered"}) {
    const std::string g = "greedy/" + name + "/";
    const auto want = reference().read(g + "indices");
    CoresetOptions o;
    o.ratio = name == "uniform" ? 0.1 : 0.05;
    o.proj_dim = 0;  // the fixture's features are already at the projection size
    o.start_index = want[0].item<int64_t>();
    const auto got = greedy_coreset(reference().read(g + "features"), o, *comm);
    EXPECT_TRUE(torch::equal(got, want)) << name;
  }
}

TEST(ReferenceLof, ScoresWithin1e4AndSameKeptSet) {
  auto comm = tc::dist::make_self_comm();
  for (const std::string name : {"small", "few_images"}) {
    const std::string g = "lof/" + name + "/";
    const auto feats = reference().read(g + "features");
    const auto want = reference().read(g + "scores");
    LofOptions o;
    o.proj_dim = 0;
    const int64_t P = feats.size(0) / (name == "small" ? 40 : 5);
    const auto got = patchwise_lof(feats, P, o, *comm);
    const double rel = ((got.scores - want).abs() / want.abs()).max().item<double>();
    EXPECT_LT(rel, 1e-4) << name;
    EXPECT_TRUE(torch::equal(got.kept_indices, reference().read(g + "kept"))) << name;
  }
}

// Three classes of 20, 7 and 3 images: the small classes' patches get
// few-shot scores near 0 and survive; the same products and kept set as the
// official TailedLOFSampler.
TEST(ReferenceTailedLof, ScoresWithin1e4AndSameKeptSet) {
  auto comm = tc::dist::make_self_comm();
  for (const std::string th : {"symmin", "indep"}) {
    const std::string g = "tailed_lof/" + th + "/";
    const auto feats = reference().read(g + "features");
    const auto want = reference().read(g + "scores");
    LofOptions o;
    o.proj_dim = 0;
    const int64_t P =
        reference().attr_int("h", g + "features") * reference().attr_int("w", g + "features");
    const auto got = tailed_lof(feats, P, o, tc::sampling::parse_threshold(th), *comm);
    const auto scale =
        want.abs().max();  // products near 0 for the small classes: relative to the largest
    EXPECT_LT(((got.scores - want).abs() / scale).max().item<double>(), 1e-4) << th;
    EXPECT_TRUE(torch::equal(got.kept_indices, reference().read(g + "kept"))) << th;
  }
  EXPECT_THROW(tailed_lof(reference().read("tailed_lof/symmin/features"), 16, {},
                          tc::sampling::Threshold::kTrimMin, *comm),
               tc::Error);  // the reference raises NotImplementedError
}

}  // namespace
