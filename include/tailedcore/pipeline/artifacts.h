// The run's artifacts (DESIGN.md "Artifacts"): typed read and write of the
// HDF5 files the stages make (the sharded feature files' writers are in
// pipeline/feature_shards.h), used by the run's stages and by the stage
// commands (`tailedcore extract/tail/lof/coreset`) alike. Each file carries
// the key it was made with (attribute config_hash, pipeline/cache_keys.h); readers never
// require our attributes beyond the ones that give rows their meaning
// (the grids where patch positions matter: feature_h/feature_w, or /grids
// when the images' grids differ), so files written with
// h5py are read as ours are. Writes are atomic (io::H5Writer).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tailedcore/core/patch_grids.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/method.h"
#include "tailedcore/models/predictions.h"

namespace tc::data {
struct ImageRecord;
}
namespace tc::dist {
class Comm;
}
namespace tc::sampling {
struct ClassSizeOptions;
struct TailSelection;
}  // namespace tc::sampling

namespace tc::pipeline {

/// Patch features of a list of images (features.h5, or one rank's block of a test set).
struct FeatureSet {
  at::Tensor patches;      // [N * h * w, D] float32
  at::Tensor embeddings;   // [N, E] float32, or undefined
  at::Tensor masks;        // [N, H, W] uint8 (test sets only)
  core::PatchGrids grids;  // each image's patch grid; no images when a read file does not say
};

// ---- features.h5: /features [rows, D] (float32 | float16), /embeddings, /image_paths,
//      /class_names; attrs backbone and the grids: feature_h, feature_w when every image
//      has one grid, else /grids [N, 2] int64 (h, w per image). Written per rank
//      (pipeline/feature_shards.h write_features_sharded).
/// `dataset`'s patch rows ([rows, D], float32, finite: a NaN row names its
/// index), /embeddings when present, the grids when the file records them.
FeatureSet read_features(const std::filesystem::path& path,
                         const std::string& dataset = "features");
/// The per-image embeddings `dataset` ([N, E], float32, finite): one row an
/// image, so no grids.
at::Tensor read_embeddings(const std::filesystem::path& path,
                           const std::string& dataset = "embeddings");
/// Writes the grids as features.h5 records them (attributes when uniform, /grids otherwise).
void write_grids(io::H5Writer& w, const core::PatchGrids& grids);
/// The grids of a file whose `rows` rows are image-major patches: /grids, or
/// feature_h x feature_w for rows / (h * w) images. A file that records
/// neither, or grids that do not add up to `rows`, is an error naming the file
/// and saying where positions are needed (`what`).
core::PatchGrids read_grids(const io::H5Reader& r, int64_t rows, const std::string& what);

// ---- tail.h5: /class_sizes [N] float32, /tail_indices int64; attrs th_type, vote_type, max_k.
void write_tail(const std::filesystem::path& path, const std::string& key,
                const sampling::TailSelection& sel, const sampling::ClassSizeOptions& opts);
at::Tensor read_tail_indices(const std::filesystem::path& path);

// ---- lof.h5: /lof_scores [rows] float32, /kept_indices int64 ascending; attrs filter,
//      projection_seed (when projected: sampling::random_projection's seed).
void write_lof(const std::filesystem::path& path, const std::string& key,
               const models::NoiseScores& s);
/// rows >= 0: /lof_scores must have that many rows (those of the features).
sampling::LofResult read_lof(const std::filesystem::path& path, int64_t rows = -1);

// ---- tail_features.h5: /features [rows, D] (the tail images' own rows, then their
//      views), virtual over the ranks' shards (stage_tail_features.cpp, feature_shards.h),
//      /tail_indices; attrs augment, views_per_image.

// ---- coreset.h5: /coreset [M, D], /coreset_indices int64 [M], /weights [M] when
//      present; attrs tail_rows, model, greedy_seed / tail_greedy_seed (each branch's
//      CoresetOptions::seed: its projection and first centre), greedy_rows /
//      tail_greedy_rows (each branch's candidate rows) and
//      greedy_rows_visited_per_step / tail_greedy_rows_visited_per_step (all
//      ranks' rows a greedy step visited, the mean; greedy_cells.h).
/// Collective: every rank passes its part of a fitted bank (or rank 0 a
/// whole one, positions undefined); rank 0 writes the file, a block of
/// models::kBankReadRows bank rows at a time.
void write_bank(const std::filesystem::path& path, const std::string& key,
                const models::MemoryBank& bank, const std::string& method, dist::Comm& comm);
models::MemoryBank read_bank(const std::filesystem::path& path);

// ---- test_features.h5: /<class>/{features, gt_masks, image_paths}; attrs feature_h,
//      feature_w when every class has one grid, else /<class>/grid [2] int64 (h, w): a
//      class's images share one size (data::check_run_inputs), the classes need not.
class TestFeaturesReader {
 public:
  explicit TestFeaturesReader(const std::filesystem::path& path);
  /// (h, w) of the class's patch grid.
  std::pair<int64_t, int64_t> grid(const std::string& cls) const;
  /// Images [first, first + count) of a class: their patch rows (float32) and masks.
  FeatureSet images(const std::string& cls, int64_t first, int64_t count) const;
  at::Tensor masks(const std::string& cls) const;
  std::vector<std::string> image_paths(const std::string& cls) const;
  const io::H5Reader& file() const { return r_; }

 private:
  io::H5Reader r_;
};

// ---- scores.h5: /<class>/{image_scores, anomaly_maps, labels, gt_masks, image_paths}.
//      Maps are float32: they are raw squared L2 distances, which exceed
//      float16's largest value (65,504) on real backbones, and float16's 11-bit
//      mantissa would turn distinct values into ties that move the pixel AUROC.
void write_class_predictions(io::H5Writer& w, const models::ClassPredictions& p);
/// What write_class_predictions wrote (an older file's float16 maps are converted).
models::ClassPredictions read_class_predictions(const io::H5Reader& r,
                                                const std::string& class_name);
std::vector<models::ClassPredictions> read_scores(const std::filesystem::path& path,
                                                  const std::vector<std::string>& classes);

}  // namespace tc::pipeline
