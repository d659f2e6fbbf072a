// Per-rank shards of the feature artifacts (DESIGN.md "Distribution": no rank
// holds the whole bank). Each rank writes the rows it computed to its own file
// <stem>.shard-<rank>-of-<ranks>.h5 beside the artifact (the rank count in the
// name: runs sharing the feature cache with other rank counts never write
// each other's shards); the artifact itself holds
// HDF5 virtual datasets over the shards (io/virtual_rows.h), so h5py opens
// features.h5's /features as one [N*h*w, D] dataset and the stage commands
// read it like any other file.
//
// Atomicity: every shard is committed (io::H5Writer: temporary name, rename)
// before rank 0 commits the artifact, which is itself built under a staging
// name and renamed last. An artifact under its final name therefore means all
// its shards were complete; pipeline::StageCache checks that they are still
// there and carry the artifact's key (io::check_virtual_sources).
//
// Contract: the writers' constructors, add_class and commit are collective
// over comm, called in the same order on every rank.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/virtual_rows.h"
#include "tailedcore/pipeline/artifacts.h"

namespace tc::data {
struct ImageRecord;
}
namespace tc::dist {
class Comm;
}

namespace tc::pipeline {

/// <dir>/<stem>.shard-<rank>-of-<ranks>.h5 for the artifact <dir>/<stem>.h5.
std::filesystem::path shard_path(const std::filesystem::path& artifact, int rank, int ranks);

/// Rank 0's last step of a sharded artifact: `main` (not yet committed, at a
/// staging path) is committed, gets its virtual datasets, and is renamed to
/// `path`.
struct VirtualDataset {
  std::string name;
  io::DType dtype;
  std::vector<int64_t> shape;
  std::vector<io::VirtualPiece> pieces;
};
void commit_with_virtuals(io::H5Writer& main, const std::filesystem::path& path,
                          const std::vector<VirtualDataset>& virtuals);
/// Where rank 0 builds a sharded artifact before its rename.
std::filesystem::path staging_path(const std::filesystem::path& artifact);

/// What features.h5 holds beside /features, sharded or not: /embeddings (when
/// defined), /image_paths, /class_names, the grids (write_grids), attr backbone.
void write_feature_metadata(io::H5Writer& w, const at::Tensor& embeddings,
                            const std::vector<data::ImageRecord>& records,
                            const core::PatchGrids& grids, const std::string& backbone);

/// features.h5 from each rank's shard: `local.patches` are the rows of this
/// rank's images (dist::shard_range over `records`, image-major) and
/// `local.grids` their grids (gathered: every image's grid is written);
/// `embeddings` [N, E] are every image's (small: all-gathered), written by
/// rank 0 with /image_paths, /class_names and the attributes (write_feature_metadata).
/// The one features.h5 writer: the run's features stage and `tailedcore extract`.
void write_features_sharded(const std::filesystem::path& path, const std::string& key,
                            const FeatureSet& local, const at::Tensor& embeddings,
                            const std::vector<data::ImageRecord>& records, io::DType dtype,
                            const std::string& backbone, dist::Comm& comm);

/// An [rows, D] dataset whose pieces are computed by whichever rank: each
/// rank writes its pieces to its shard at their global rows (the shard's
/// dataset has the global shape; HDF5 stores only the chunks written), and
/// commit() gathers the piece table so that rank 0 makes the artifact with
/// the virtual dataset over every piece. main() is rank 0's writer of the
/// artifact's other datasets and attributes (nullptr elsewhere).
class ShardedRowsWriter {
 public:
  ShardedRowsWriter(const std::filesystem::path& path, const std::string& stage,
                    const std::string& key, const std::string& dataset, int64_t rows, int64_t dim,
                    io::DType dtype, dist::Comm& comm);
  ~ShardedRowsWriter();
  /// Rows [first_row, first_row + rows.size(0)) of the dataset (this rank's).
  void append(const at::Tensor& rows, int64_t first_row);
  io::H5Writer* main() { return main_.get(); }
  /// Collective: fails unless the pieces of all ranks cover every row once.
  void commit();

 private:
  std::filesystem::path path_;
  std::string dataset_;
  int64_t rows_, dim_;
  io::DType dtype_;
  dist::Comm& comm_;
  std::unique_ptr<io::H5Writer> shard_, main_;
  std::vector<int64_t> pieces_;  // first, rows, first, rows, ...
};

/// This rank's block of training rows: rows [first_row, first_row + rows) of
/// /features, the images dist::shard_range(N, rank, size), plus /embeddings
/// and the grids (of all images; local.grids: this rank's). Reads the rank's own shard when the
/// file was written by as many ranks, otherwise those rows through the virtual dataset (or a plain
/// /features written by h5py or `tailedcore extract`).
struct FeatureShard {
  FeatureSet local;         // patches [rows, D] float32 of this rank's images; embeddings [N, E]
  int64_t first_row = 0;    // global index of local.patches' first row
  int64_t total_rows = 0;   // rows of the whole /features
  int64_t first_image = 0;  // global index of this rank's first image
  int64_t images = 0;       // images of the whole set
  core::PatchGrids grids;   // every image's grid (small: on every rank)
};
FeatureShard read_feature_shard(const std::filesystem::path& path, dist::Comm& comm);

/// test_features.h5 from each rank's block of each class: /<class>/features
/// and /<class>/gt_masks are virtual over the shards; /<class>/image_paths
/// and the grids (attributes when every class has one grid, else
/// /<class>/grid) are in the artifact.
class ShardedTestFeaturesWriter {
 public:
  ShardedTestFeaturesWriter(const std::filesystem::path& path, const std::string& key,
                            io::DType dtype, dist::Comm& comm);
  ~ShardedTestFeaturesWriter();
  /// `local`: this rank's block of the class (patches and masks); `image_paths`: all of them;
  /// (h, w): the class's patch grid.
  void add_class(const std::string& cls, const FeatureSet& local,
                 const std::vector<std::string>& image_paths, std::pair<int64_t, int64_t> grid);
  void commit();

 private:
  std::filesystem::path path_;
  std::string key_;
  io::DType dtype_;
  dist::Comm& comm_;
  std::unique_ptr<io::H5Writer> shard_;
  std::unique_ptr<io::H5Writer> main_;                                      // rank 0
  std::vector<VirtualDataset> virtuals_;                                    // rank 0
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> grids_;  // rank 0: per class
};

}  // namespace tc::pipeline
