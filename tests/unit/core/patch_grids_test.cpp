// Each image's patch grid: rows, owners of rows, slices and the groups of
// images that share a grid (what patch-wise LOF compares among).
#include "tailedcore/core/patch_grids.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/core/check.h"

using tc::core::PatchGrids;

namespace {

PatchGrids mixed() {  // images 0..4: 2x3, 4x4, 2x3, 1x1, 4x4
  return PatchGrids::of(torch::tensor({2, 3, 4, 4, 2, 3, 1, 1, 4, 4}).view({5, 2}));
}

TEST(PatchGrids, RowsOfImagesOfSeveralGrids) {
  const auto g = mixed();
  EXPECT_EQ(g.images(), 5);
  EXPECT_EQ(g.rows(), 6 + 16 + 6 + 1 + 16);
  EXPECT_EQ(g.row_begin(0), 0);
  EXPECT_EQ(g.row_begin(1), 6);
  EXPECT_EQ(g.row_begin(3), 28);
  EXPECT_EQ(g.row_begin(5), 45);
  EXPECT_EQ(g.per_image(1), 16);
  EXPECT_EQ(g.image_of_row(0), 0);
  EXPECT_EQ(g.image_of_row(5), 0);
  EXPECT_EQ(g.image_of_row(6), 1);
  EXPECT_EQ(g.image_of_row(28), 3);
  EXPECT_EQ(g.image_of_row(29), 4);
  EXPECT_EQ(g.image_of_row(44), 4);
  EXPECT_FALSE(g.is_uniform());
  EXPECT_TRUE(torch::equal(PatchGrids::of(g.hw()).hw(), g.hw()));
}

TEST(PatchGrids, GroupsInOrderOfFirstImage) {
  const auto groups = mixed().groups();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].h, 2);
  EXPECT_EQ(groups[0].w, 3);
  EXPECT_EQ(groups[0].images, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(groups[1].per_image(), 16);
  EXPECT_EQ(groups[1].images, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(groups[2].images, (std::vector<int64_t>{3}));
}

TEST(PatchGrids, OneGridIsOneGroupOfEveryImage) {
  const auto g = PatchGrids::uniform(4, 3, 5);
  EXPECT_TRUE(g.is_uniform());
  EXPECT_EQ(g.rows(), 60);
  EXPECT_EQ(g.row_begin(2), 30);
  const auto groups = g.groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].images, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(PatchGrids().is_uniform());
  EXPECT_EQ(PatchGrids().rows(), 0);
  EXPECT_TRUE(PatchGrids().groups().empty());
}

TEST(PatchGrids, SliceAndAppend) {
  const auto g = mixed();
  const auto s = g.slice(1, 3);  // 4x4, 2x3, 1x1
  EXPECT_EQ(s.images(), 3);
  EXPECT_EQ(s.rows(), 23);
  auto a = g.slice(0, 1);
  a.append(s);
  EXPECT_TRUE(torch::equal(a.hw(), g.hw().narrow(0, 0, 4)));
}

TEST(PatchGrids, EmptyGridIsAnError) {
  EXPECT_THROW(PatchGrids::of(torch::tensor({2, 0}).view({1, 2})), tc::Error);
  EXPECT_THROW(PatchGrids::of(torch::tensor({2, 3, 4})), tc::Error);
}

}  // namespace
