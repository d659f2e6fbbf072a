// Features for the stages of a run: the backbone (built on first use, so a
// fully cached run never loads it), training features, tail views, test features.
//
// Contract: collective over the communicator it is built with (every call);
// images are sharded in contiguous blocks in
// catalog order and gathered in rank order, so results do not depend on the
// number of ranks.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/data/augment.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/pipeline/artifacts.h"
#include "tailedcore/pipeline/tail_view_groups.h"

namespace tc::data {
struct ImageRecord;
}
namespace tc::dist {
class Comm;
}
namespace tc::exp {
struct Plan;
}
namespace tc::features {
class Backbone;
class PatchEmbedder;
}  // namespace tc::features

namespace tc::pipeline {

class FeatureSource {
 public:
  FeatureSource(const exp::Plan& plan, std::string backbone,
                const std::vector<data::ImageRecord>& train, dist::Comm& comm);
  ~FeatureSource();

  /// This rank's block of `records` (dist::shard_range): its patch rows, and
  /// the global embeddings of every image (small; gathered) when asked.
  FeatureSet train_shard(const std::vector<data::ImageRecord>& records, bool with_embeddings);
  /// This rank's block of a test set: patches and masks (not gathered).
  FeatureSet test_shard(const std::vector<data::ImageRecord>& records);
  /// Patch features of the augmented views of the tail images (groups index
  /// the training images it was built with), group by
  /// group (pipeline/tail_view_groups.h: training batch of 128, then shape;
  /// within a group SPEC 5.2's angle, flip, image, patch). Computed in rounds of
  /// one unit per rank (consecutive views of one group's images, up to
  /// data.batch_size images: one forward pass); each round, this
  /// rank's rows go to `sink` with their first row among all the views
  /// (rounds in order, units in rank order within a round): nothing is
  /// gathered, and no rank holds more than its own unit of a round.
  void tail_views(const std::vector<TailViewGroup>& groups,
                  const std::function<void(const at::Tensor& rows, int64_t first_row)>& sink);

 private:
  features::PatchEmbedder& embedder(bool with_embeddings);
  FeatureSet extract_block(const std::vector<data::ImageRecord>& records, bool with_embeddings,
                           bool with_masks, const char* label);

  const exp::Plan& plan_;
  std::string backbone_name_;
  const std::vector<data::ImageRecord>& train_;
  dist::Comm& comm_;
  std::unique_ptr<features::Backbone> backbone_;
  std::unique_ptr<features::PatchEmbedder> embedder_;
  bool embedder_global_ = false;
};

}  // namespace tc::pipeline
