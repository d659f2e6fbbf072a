// `tailedcore tail` on a small features.h5 made here: the stage's tail.h5
// equals select_tail on the same embeddings, and bad input fails cleanly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/class_size.h"
#include "testing.h"

namespace {

// Non-negative clusters of 40, 25, 12, 3, 2 and 1 images (dim 32).
torch::Tensor clustered_embeddings() {
  torch::manual_seed(7);
  std::vector<torch::Tensor> parts;
  for (int64_t size : {40, 25, 12, 3, 2, 1})
    parts.push_back((torch::rand({1, 32}) * 3).repeat({size, 1}) + 0.25 * torch::rand({size, 32}));
  return torch::cat(parts);
}

void write_features(const std::filesystem::path& path, const torch::Tensor& embeddings) {
  tc::io::H5Writer w(path, "extract", "cafe0001");
  w.write("embeddings", embeddings);
  w.commit();
}

TEST(TailStage, WritesClassSizesAndTailOfTheEmbeddings) {
  tc::testing::TempDir dir;
  const auto x = clustered_embeddings();
  write_features(dir / "features.h5", x);
  for (const auto& [th, vote] : std::vector<std::pair<std::string, std::string>>{
           {"trim_min", "mode"}, {"double_max_step", "none"}, {"symmin", "mean"}}) {
    const auto out = dir / ("tail_" + th + ".h5");
    const auto r = tc::testing::run_cli("tail --in " + (dir / "features.h5").string() + " --out " +
                                        out.string() + " --th-type " + th + " --vote " + vote);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    tc::io::H5Reader h(out);
    tc::sampling::ClassSizeOptions o;
    o.threshold = tc::sampling::parse_threshold(th);
    o.vote = tc::sampling::parse_vote(vote);
    auto comm = tc::dist::make_self_comm();
    const auto want = tc::sampling::select_tail(x, o, *comm);
    EXPECT_TRUE(torch::equal(h.read("class_sizes").nan_to_num(-1), want.class_sizes.nan_to_num(-1)))
        << th;
    EXPECT_TRUE(torch::equal(h.read("tail_indices"), want.tail_indices)) << th;
    EXPECT_EQ(h.attr_string("th_type"), th);
    EXPECT_EQ(h.attr_string("vote_type"), vote);
    EXPECT_EQ(h.attr_string("config_hash"), "cafe0001");
  }
  // The default (trim_min + mode) finds the three smallest clusters (6 images) and
  // nothing of the two large ones.
  tc::io::H5Reader h(dir / "tail_trim_min.h5");
  const auto tail = h.read("tail_indices");
  EXPECT_TRUE(torch::all(tail >= 40 + 25).item<bool>()) << tail;
  EXPECT_TRUE(torch::isin(torch::arange(77, 83), tail).all().item<bool>()) << tail;
}

TEST(TailStage, BadInputFailsWithOneLineAndNoOutput) {
  tc::testing::TempDir dir;
  write_features(dir / "features.h5", clustered_embeddings());
  const auto out = dir / "tail.h5";
  auto r = tc::testing::run_cli("tail --in " + (dir / "features.h5").string() + " --out " +
                                out.string() + " --th-type median");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("median"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = tc::testing::run_cli("tail --in " + (dir / "missing.h5").string() + " --out " + out.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
