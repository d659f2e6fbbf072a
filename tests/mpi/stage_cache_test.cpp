// StageCache's one decision for all ranks: each rank checks only its share of
// a cached artifact, and one collective makes every rank skip or every rank
// recompute, whichever rank's check failed.
#include "tailedcore/pipeline/stage_cache.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "mpi_testing.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/datasets/nlt.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/run.h"
#include "tailedcore/synth/synth.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::world;

namespace {

// Junk over the first chunk of `dataset` in `file`: it still opens, and only
// a read of that chunk fails (Fletcher-32).
void damage_first_chunk(const fs::path& file, const std::string& dataset) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  const hid_t space = H5Dget_space(ds);
  hsize_t offset[2];
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  const herr_t got = H5Dget_chunk_info(ds, space, 0, offset, &mask, &addr, &size);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  ASSERT_GE(got, 0) << file;
  std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(addr));
  const std::string junk(size / 2, '\x5a');
  out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

bool ran(const tc::pipeline::RunSummary& s, const std::string& stage) {
  return std::any_of(s.stage_seconds.begin(), s.stage_seconds.end(),
                     [&](const auto& p) { return p.first == stage; });
}

// Each rank looks at its own copy of a sharded features.h5 (as a node whose
// disk or mount misbehaves would): the copy of the last rank has a damaged
// shard. Only the rank that reads that shard can see it, and every rank
// must still decide the same.
TEST(MpiStageCache, ARankWhoseShareFailsMakesEveryRankRecompute) {
  const auto dir = tc::testing::shared_temp_dir("cache_share");
  const int R = world().size(), me = world().rank();
  const int64_t N = 7, P = 4, D = 8;
  torch::manual_seed(5);
  const auto all = torch::randn({N * P, D});
  std::vector<tc::data::ImageRecord> records(N);
  for (int64_t i = 0; i < N; ++i) {
    records[i].path = "img" + std::to_string(i) + ".png";
    records[i].class_name = "a";
  }
  const auto mine = tc::dist::shard_range(N, me, R);
  tc::pipeline::FeatureSet local;
  local.patches = all.narrow(0, mine.begin * P, mine.size() * P);
  local.grids = tc::core::PatchGrids::uniform(mine.size(), 2, 2);
  tc::pipeline::write_features_sharded(dir / "shared" / "features.h5", "key1", local,
                                       torch::randn({N, 3}), records, tc::io::DType::kFloat32, "bb",
                                       world());
  world().barrier();
  const fs::path view = dir / ("view-" + std::to_string(me));
  fs::copy(dir / "shared", view, fs::copy_options::recursive);
  const tc::pipeline::StageCache cache(view, "key1");
  EXPECT_TRUE(cache.done("features", world()));

  const auto shard = [&](int r) { return tc::pipeline::shard_path(view / "features.h5", r, R); };
  if (me == R - 1) damage_first_chunk(shard(R - 1), "features");
  EXPECT_FALSE(cache.done("features", world())) << "rank " << me;

  // A damaged shard that is another rank's share goes unread by the rank
  // that holds the damage: every rank reads only its own share.
  fs::copy_file(dir / "shared" / shard(R - 1).filename(), shard(R - 1),
                fs::copy_options::overwrite_existing);
  if (me == R - 1) damage_first_chunk(shard(0), "features");
  EXPECT_EQ(cache.done("features", world()), R > 1) << "rank " << me;
  world().barrier();
}

tc::pipeline::RunOptions options(const fs::path& dir) {
  tc::pipeline::RunOptions o;
  o.config_path = tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  o.data_dir = dir / "data";
  o.out_root = dir / "out";
  o.run_id = "run";
  o.pictures_per_class = 0;
  o.threads = 1;
  o.overrides = {"data.resize=48", "data.imagesize=40", "data.inputsize=40",
                 "model.greedy_ratio=0.05", "model.coreset_model_name=patchcore"};
  return o;
}

// A whole run: the last rank's features shard damaged on disk (its rank is
// the one that checks it) is recomputed by every rank, the stages after it
// stay cached, and the metrics are those of the first run.
TEST(MpiStageCache, ADamagedShardInARunIsRecomputedByEveryRank) {
  const auto dir = tc::testing::shared_temp_dir("cache_run");
  const int R = world().size();
  if (world().rank() == 0) {
    tc::synth::SynthOptions so;
    so.size = 48;
    so.threads = 1;
    tc::synth::generate_synthetic(dir / "small", so);
    tc::datasets::NltMakeOptions no;
    no.seed = 1;
    tc::datasets::make_nlt(dir / "small", dir / "data", no);
  }
  world().barrier();
  const auto first = tc::pipeline::run_experiment(options(dir), world());
  EXPECT_TRUE(ran(first, "features"));
  fs::path damaged;
  for (const auto& e : fs::recursive_directory_iterator(dir / "out"))
    if (e.path().filename() ==
        "features.shard-" + std::to_string(R - 1) + "-of-" + std::to_string(R) + ".h5")
      damaged = e.path();
  ASSERT_FALSE(damaged.empty());
  world().barrier();
  if (world().rank() == 0) damage_first_chunk(damaged, "features");
  world().barrier();
  const auto again = tc::pipeline::run_experiment(options(dir), world());
  EXPECT_TRUE(ran(again, "features")) << "rank " << world().rank();
  EXPECT_FALSE(ran(again, "coreset")) << "rank " << world().rank();
  if (world().rank() != 0) return;
  ASSERT_EQ(again.classes.size(), first.classes.size());
  for (size_t i = 0; i < first.classes.size(); ++i) {
    EXPECT_EQ(again.classes[i].image_auroc, first.classes[i].image_auroc)
        << first.classes[i].class_name;
    EXPECT_EQ(again.classes[i].pixel_auroc, first.classes[i].pixel_auroc)
        << first.classes[i].class_name;
  }
}

}  // namespace
