#include "tailedcore/pipeline/feature_source.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/loader.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "tailedcore/features/move_to_device.h"

namespace tc::pipeline {
namespace {

// Images used to re-estimate BatchNorm statistics of a random-weight backbone.
constexpr int64_t kRecalibrationImages = 64;

// Features leave the device once computed: the artifacts and gathers are host tensors.
features::PatchEmbedder::Output to_host(features::PatchEmbedder::Output o) {
  o.patches = o.patches.to(torch::kCPU);
  if (o.embeddings.defined()) o.embeddings = o.embeddings.to(torch::kCPU);
  return o;
}

std::vector<data::ImageRecord> slice(const std::vector<data::ImageRecord>& v, dist::Range r) {
  return {v.begin() + r.begin, v.begin() + r.end};
}

}  // namespace

FeatureSource::FeatureSource(const exp::Plan& plan, std::string backbone,
                             const std::vector<data::ImageRecord>& train, dist::Comm& comm)
    : plan_(plan), backbone_name_(std::move(backbone)), train_(train), comm_(comm) {}

FeatureSource::~FeatureSource() = default;

features::PatchEmbedder& FeatureSource::embedder(bool with_embeddings) {
  if (!backbone_) {
    const auto bo = plan_.backbone(backbone_name_);
    backbone_ = features::Backbone::create(bo);
    features::move_to_device(*backbone_, plan_.device);  // once per stage run (model.device)
    if (bo.weights_path.empty()) {
      // Random weights collapse the global embeddings (DESIGN.md hazard); BatchNorm
      // statistics re-estimated on the training images spread them again. The same
      // evenly spaced images on every rank keep the network rank-independent.
      std::vector<at::Tensor> batches;
      const int64_t n = static_cast<int64_t>(train_.size());
      const int64_t take = std::min(n, kRecalibrationImages);
      std::vector<torch::Tensor> imgs;
      for (int64_t i = 0; i < take; ++i) {
        auto img = data::load_image(train_[i * n / take].path, plan_.transform);
        // A batch is one size (images kept at their own size differ).
        if (!imgs.empty() && img.sizes() != imgs.front().sizes()) {
          batches.push_back(torch::stack(imgs).to(plan_.device));
          imgs.clear();
        }
        imgs.push_back(std::move(img));
        if (static_cast<int64_t>(imgs.size()) == 16 || i + 1 == take) {
          batches.push_back(torch::stack(imgs).to(plan_.device));
          imgs.clear();
        }
      }
      features::recalibrate_batchnorm(*backbone_, batches);
      core::log_warn("backbone ", backbone_name_, " has random weights (BatchNorm re-estimated on ",
                     take,
                     " training images): results are NOT comparable to published ones; pass "
                     "model.backbone_weights (launch/export_backbone.py) for ImageNet weights");
    }
  }
  if (!embedder_ || embedder_global_ != with_embeddings) {
    auto eo = plan_.embedder;
    eo.global_embedding = with_embeddings;
    embedder_ = std::make_unique<features::PatchEmbedder>(*backbone_, eo);
    embedder_global_ = with_embeddings;
  }
  return *embedder_;
}

FeatureSet FeatureSource::extract_block(const std::vector<data::ImageRecord>& records,
                                        bool with_embeddings, bool with_masks, const char* label) {
  auto& emb = embedder(with_embeddings);
  std::vector<torch::Tensor> embeddings, masks;
  // The block's rows, sized at the first batch for every image at its grid: no
  // copy of them is made unless a later batch has a larger grid (mixed sizes).
  torch::Tensor patches;
  int64_t filled = 0;
  FeatureSet out;
  if (!records.empty()) {
    // The loader cuts a batch where the image size changes: one grid a batch.
    data::BatchLoader loader(records, plan_.transform, plan_.batch_size, with_masks,
                             static_cast<int>(plan_.workers));
    core::Progress progress(label, static_cast<int64_t>(records.size()));
    while (auto batch = loader.next()) {
      auto o = to_host(emb.embed(batch->images.to(plan_.device)));
      const int64_t n = batch->images.size(0), per_image = o.h * o.w;
      TC_ASSERT(o.patches.size(0) == n * per_image, label, ": ", o.patches.size(0), " rows for ", n,
                " images of ", o.h, " x ", o.w, " patches");
      const int64_t needed =
          filled + o.patches.size(0) +
          (static_cast<int64_t>(records.size()) - out.grids.images() - n) * per_image;
      if (!patches.defined())
        patches = torch::empty({needed, o.patches.size(1)}, o.patches.options());
      else if (needed > patches.size(0))
        patches.resize_({needed, patches.size(1)});  // keeps the rows filled so far
      patches.narrow(0, filled, o.patches.size(0)).copy_(o.patches);
      filled += o.patches.size(0);
      out.grids.append(core::PatchGrids::uniform(n, o.h, o.w));
      if (with_embeddings) embeddings.push_back(o.embeddings);
      if (with_masks) masks.push_back(batch->masks);
      progress.advance(n);
    }
  }
  // Ranks with no images still need the shapes for the collectives (masks:
  // the images' size, which at native resolution only the images know).
  const int64_t mask_h = masks.empty() ? 0 : masks[0].size(1),
                mask_w = masks.empty() ? 0 : masks[0].size(2);
  auto hw = comm_.allreduce(torch::tensor({mask_h, mask_w}), dist::ReduceOp::kMax);
  out.patches = patches.defined() ? patches.narrow(0, 0, filled)
                                  : torch::empty({0, plan_.embedder.target_dim});
  if (with_embeddings) {
    // Ranks without images need the embedding width for the gather.
    const int64_t local_dim = embeddings.empty() ? 0 : embeddings[0].size(1);
    const int64_t edim =
        comm_.allreduce(torch::tensor({local_dim}), dist::ReduceOp::kMax).item<int64_t>();
    out.embeddings = embeddings.empty() ? torch::empty({0, edim}) : torch::cat(embeddings);
  }
  if (with_masks)
    out.masks = masks.empty()
                    ? torch::empty({0, hw[0].item<int64_t>(), hw[1].item<int64_t>()}, torch::kUInt8)
                    : torch::cat(masks);
  return out;
}

FeatureSet FeatureSource::train_shard(const std::vector<data::ImageRecord>& records,
                                      bool with_embeddings) {
  const auto mine = slice(records, dist::shard_range(records.size(), comm_.rank(), comm_.size()));
  FeatureSet local = extract_block(mine, with_embeddings, false, "extract train");
  if (with_embeddings) local.embeddings = comm_.allgatherv(local.embeddings);
  return local;
}

FeatureSet FeatureSource::test_shard(const std::vector<data::ImageRecord>& records) {
  const auto mine = slice(records, dist::shard_range(records.size(), comm_.rank(), comm_.size()));
  return extract_block(mine, false, true, "extract test");
}

void FeatureSource::tail_views(const std::vector<TailViewGroup>& groups,
                               const std::function<void(const at::Tensor&, int64_t)>& sink) {
  // A work unit is a run of consecutive views of one group, as many as fill
  // one batch of data.batch_size images (a group of 2 tail images and batch
  // 32: 16 views a forward pass, not 2 images). Round t gives unit
  // t * ranks + r to rank r; a gather of the round's row counts places each
  // rank's rows in unit order.
  struct Unit {
    int64_t group, first_view, views;
  };
  std::vector<Unit> units;
  for (int64_t g = 0; g < static_cast<int64_t>(groups.size()); ++g) {
    const int64_t nv = groups[g].spec.views();
    const int64_t per =
        std::max<int64_t>(1, plan_.batch_size / static_cast<int64_t>(groups[g].images.size()));
    for (int64_t v = 0; v < nv; v += per) units.push_back({g, v, std::min(per, nv - v)});
  }
  const int64_t ranks = comm_.size(), n_units = static_cast<int64_t>(units.size());
  const int64_t rounds = (n_units + ranks - 1) / ranks;
  data::TransformOptions source_tf = plan_.transform;
  auto& emb = embedder(false);
  core::Progress progress("tail views", rounds);
  int64_t loaded_group = -1, written = 0;
  torch::Tensor images;
  std::vector<std::pair<int64_t, bool>> views;
  for (int64_t round = 0; round < rounds; ++round) {
    const int64_t u = round * ranks + comm_.rank();
    std::vector<torch::Tensor> out;
    if (u < n_units) {
      const auto& unit = units[u];
      const auto& group = groups[unit.group];
      if (unit.group != loaded_group) {
        source_tf.crop = group.spec.from_uncropped ? 0 : plan_.transform.crop;
        std::vector<torch::Tensor> imgs;
        for (int64_t idx : group.images)
          imgs.push_back(data::load_image(train_[idx].path, source_tf));
        images = torch::stack(imgs);  // one shape a group
        views = data::view_sequence(group.spec);
        loaded_group = unit.group;
      }
      std::vector<torch::Tensor> unit_views;
      for (int64_t v = unit.first_view; v < unit.first_view + unit.views; ++v)
        unit_views.push_back(data::make_view(images, group.spec, views[v].first, views[v].second,
                                             plan_.transform.crop));
      const auto batch = torch::cat(unit_views);  // view-major, then image
      for (int64_t s = 0; s < batch.size(0); s += plan_.batch_size)
        out.push_back(emb.embed(batch.narrow(0, s, std::min(plan_.batch_size, batch.size(0) - s))
                                    .to(plan_.device))
                          .patches.to(torch::kCPU));
    }
    const auto local = out.empty() ? torch::empty({0, plan_.embedder.target_dim}) : torch::cat(out);
    const auto counts = comm_.allgather(torch::tensor({local.size(0)}, torch::kInt64));
    const int64_t before = counts.narrow(0, 0, comm_.rank()).sum().item<int64_t>();
    if (local.size(0)) sink(local, written + before);
    written += counts.sum().item<int64_t>();
    progress.advance();
  }
}

}  // namespace tc::pipeline
