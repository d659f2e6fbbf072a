// The run's artifacts (DESIGN.md "Artifacts"): typed read and write of every
// HDF5 file a stage makes, used by the run's stages and by the stage commands
// (`tailedcore extract/tail/lof/coreset`) alike. Each file carries the key it
// was made with (attribute config_hash, pipeline/cache_keys.h); readers never
// require our attributes beyond the ones that give rows their meaning
// (feature_h/feature_w where patch positions matter), so files written with
// h5py are read as ours are. Writes are atomic (io::H5Writer).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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
  at::Tensor patches;     // [N * h * w, D] float32
  at::Tensor embeddings;  // [N, E] float32, or undefined
  at::Tensor masks;       // [N, H, W] uint8 (test sets only)
  int64_t h = 0, w = 0;   // patch grid; 0 when a read file does not say
  int64_t per_image() const { return h * w; }
};

// ---- features.h5: /features [rows, D] (float32 | float16), /embeddings, /image_paths,
//      /class_names; attrs feature_h, feature_w, backbone. Written per rank
//      (pipeline/feature_shards.h write_features_sharded).
/// `dataset`'s rows ([rows, D], float32, finite: a NaN row names its index),
/// /embeddings when present, the grid when the attributes are there.
FeatureSet read_features(const std::filesystem::path& path,
                         const std::string& dataset = "features");
/// Rows per image from feature_h x feature_w; a file without them is an
/// error saying where positions are needed (`what`).
int64_t patches_per_image(const std::filesystem::path& path, const std::string& what);

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

// ---- test_features.h5: /<class>/{features, gt_masks, image_paths}; attrs feature_h, feature_w.
class TestFeaturesReader {
 public:
  explicit TestFeaturesReader(const std::filesystem::path& path);
  int64_t h() const { return h_; }
  int64_t w() const { return w_; }
  /// Images [first, first + count) of a class: their patch rows (float32) and masks.
  FeatureSet images(const std::string& cls, int64_t first, int64_t count) const;
  at::Tensor masks(const std::string& cls) const;
  std::vector<std::string> image_paths(const std::string& cls) const;
  const io::H5Reader& file() const { return r_; }

 private:
  io::H5Reader r_;
  int64_t h_, w_;
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
