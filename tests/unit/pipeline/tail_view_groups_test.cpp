// The tail images' view groups: by the reference's training batch of 128,
// then by shape, each shape with the views it keeps (rotflip: 3 on a
// non-square image, 7 on a square one).
#include "tailedcore/pipeline/tail_view_groups.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

using tc::pipeline::tail_view_groups;

namespace {

TEST(TailViewGroups, ByTrainingBatchThenShape) {
  const auto tail = torch::tensor({3, 5, 9, 130, 131, 140}, torch::kInt64);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{32, 48}, {40, 40}, {32, 48},
                                                           {40, 40}, {40, 40}, {32, 48}};
  const auto groups = tail_view_groups(tail, shapes, tc::data::augment_spec("rotflip"));
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].images, (std::vector<int64_t>{3, 9}));
  EXPECT_EQ(groups[0].spec.views(), 3);  // flip, 180, 180 + flip
  EXPECT_EQ(groups[1].images, (std::vector<int64_t>{5}));
  EXPECT_EQ(groups[1].spec.views(), 7);
  EXPECT_EQ(groups[2].images, (std::vector<int64_t>{130, 131}));
  EXPECT_EQ(groups[2].h, 40);
  EXPECT_EQ(groups[3].images, (std::vector<int64_t>{140}));
  EXPECT_EQ(groups[3].w, 48);
}

TEST(TailViewGroups, OneShapeIsTheReferenceBatches) {
  const auto tail = torch::tensor({1, 2, 127, 128, 300}, torch::kInt64);
  const std::vector<std::pair<int64_t, int64_t>> shapes(5, {32, 48});
  const auto groups = tail_view_groups(tail, shapes, tc::data::augment_spec("rot45flip"));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].images, (std::vector<int64_t>{1, 2, 127}));
  EXPECT_EQ(groups[1].images, (std::vector<int64_t>{128}));
  EXPECT_EQ(groups[2].images, (std::vector<int64_t>{300}));
  EXPECT_EQ(groups[0].spec.views(), 15);  // rot*flip rotate within the frame: every view
}

}  // namespace
