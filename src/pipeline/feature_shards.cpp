#include "tailedcore/pipeline/feature_shards.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/io/files.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

// Every rank's count of `n` (int64), in rank order.
std::vector<int64_t> counts_of(int64_t n, dist::Comm& comm) {
  const auto all = comm.allgather(torch::tensor({n}, torch::kInt64));
  return {all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel()};
}

// One piece per rank: rank r's `dataset` rows, concatenated in rank order.
std::vector<io::VirtualPiece> rank_pieces(const fs::path& artifact, const std::string& dataset,
                                          const std::vector<int64_t>& rows) {
  std::vector<io::VirtualPiece> pieces;
  int64_t dest = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int n = static_cast<int>(rows.size());
    pieces.push_back({shard_path(artifact, static_cast<int>(r), n).filename().string(), dataset, 0,
                      rows[r], dest});
    dest += rows[r];
  }
  return pieces;
}

int64_t sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

}  // namespace

fs::path shard_path(const fs::path& artifact, int rank, int ranks) {
  return artifact.parent_path() / (artifact.stem().string() + ".shard-" + std::to_string(rank) +
                                   "-of-" + std::to_string(ranks) + ".h5");
}

// A temporary name of this process (io::temporary_path): concurrent runs
// sharing the feature cache never build in one another's file, and a crashed
// run's leftover is cleaned like any temporary.
fs::path staging_path(const fs::path& artifact) { return io::temporary_path(artifact); }

void commit_with_virtuals(io::H5Writer& main, const fs::path& path,
                          const std::vector<VirtualDataset>& virtuals) {
  const fs::path staging = main.path();
  main.commit();  // complete but for the virtual datasets, under the staging name
  try {
    for (const auto& v : virtuals)
      io::add_virtual_rows(staging, v.name, v.dtype, v.shape, v.pieces);
  } catch (...) {
    std::error_code ec;
    fs::remove(staging, ec);
    throw;
  }
  io::move_into_place(staging, path);
}

void write_feature_metadata(io::H5Writer& w, const at::Tensor& embeddings,
                            const std::vector<data::ImageRecord>& records,
                            const core::PatchGrids& grids, const std::string& backbone) {
  if (embeddings.defined()) w.write("embeddings", embeddings);
  std::vector<std::string> paths, classes;
  for (const auto& r : records) {
    paths.push_back(r.path);
    classes.push_back(r.class_name);
  }
  w.write_strings("image_paths", paths);
  w.write_strings("class_names", classes);
  write_grids(w, grids);
  w.set_attr("backbone", backbone);
}

void write_features_sharded(const fs::path& path, const std::string& key, const FeatureSet& local,
                            const at::Tensor& embeddings,
                            const std::vector<data::ImageRecord>& records, io::DType dtype,
                            const std::string& backbone, dist::Comm& comm) {
  const int64_t rows = local.patches.size(0), dim = local.patches.size(1);
  {
    io::H5Writer s(shard_path(path, comm.rank(), comm.size()), "features_shard", key);
    s.create("features", dtype, {rows, dim});
    s.write_rows("features", 0, local.patches);
    s.set_attr("shard", static_cast<int64_t>(comm.rank()));
    s.set_attr("shards", static_cast<int64_t>(comm.size()));
    s.commit();
  }
  // Every shard is committed before any rank passes this gather.
  const auto per_rank = counts_of(rows, comm);
  const auto grids = core::PatchGrids::of(comm.allgatherv(local.grids.hw()));  // [N, 2], small
  if (comm.rank() != 0) return;
  io::H5Writer w(staging_path(path), "features", key);
  write_feature_metadata(w, embeddings, records, grids, backbone);
  w.set_attr("shards", static_cast<int64_t>(comm.size()));
  commit_with_virtuals(
      w, path,
      {{"features", dtype, {sum(per_rank), dim}, rank_pieces(path, "features", per_rank)}});
}

FeatureShard read_feature_shard(const fs::path& path, dist::Comm& comm) {
  io::H5Reader r(path);
  r.expect_shape("features", {-1, -1});
  FeatureShard out;
  out.total_rows = r.shape("features")[0];
  out.grids = read_grids(r, out.total_rows, "a rank's share of the training rows");
  out.images = out.grids.images();
  const auto mine = dist::shard_range(out.images, comm.rank(), comm.size());
  out.first_image = mine.begin;
  out.first_row = out.grids.row_begin(mine.begin);
  // Through the virtual dataset: HDF5 opens only the shard(s) holding these rows.
  out.local.patches =
      r.read_rows("features", out.first_row, out.grids.row_begin(mine.end) - out.first_row)
          .to(torch::kFloat32);
  io::check_finite_file_rows(r, "features", out.local.patches,
                             out.first_row);  // a missing shard reads as NaN
  if (r.has("embeddings")) {
    r.expect_shape("embeddings", {out.images, -1});
    out.local.embeddings = r.read("embeddings").to(torch::kFloat32);
    io::check_finite_file_rows(r, "embeddings", out.local.embeddings);
  }
  out.local.grids = out.grids.slice(mine.begin, mine.size());
  return out;
}

ShardedTestFeaturesWriter::ShardedTestFeaturesWriter(const fs::path& path, const std::string& key,
                                                     io::DType dtype, dist::Comm& comm)
    : path_(path), key_(key), dtype_(dtype), comm_(comm) {
  shard_ = std::make_unique<io::H5Writer>(shard_path(path, comm.rank(), comm.size()),
                                          "test_features_shard", key);
  shard_->set_attr("shard", static_cast<int64_t>(comm.rank()));
  shard_->set_attr("shards", static_cast<int64_t>(comm.size()));
  if (comm.rank() == 0)
    main_ = std::make_unique<io::H5Writer>(staging_path(path), "test_features", key);
}

ShardedTestFeaturesWriter::~ShardedTestFeaturesWriter() = default;

void ShardedTestFeaturesWriter::add_class(const std::string& cls, const FeatureSet& local,
                                          const std::vector<std::string>& image_paths,
                                          std::pair<int64_t, int64_t> grid) {
  const int64_t rows = local.patches.size(0), dim = local.patches.size(1);
  shard_->create(cls + "/features", dtype_, {rows, dim});
  shard_->write_rows(cls + "/features", 0, local.patches);
  shard_->write(cls + "/gt_masks", local.masks);
  const auto row_counts = counts_of(rows, comm_);
  const auto image_counts = counts_of(local.masks.size(0), comm_);
  if (!main_) return;
  main_->write_strings(cls + "/image_paths", image_paths);
  grids_.emplace_back(cls, grid);
  virtuals_.push_back({cls + "/features",
                       dtype_,
                       {sum(row_counts), dim},
                       rank_pieces(path_, cls + "/features", row_counts)});
  virtuals_.push_back({cls + "/gt_masks",
                       io::DType::kUInt8,
                       {sum(image_counts), local.masks.size(1), local.masks.size(2)},
                       rank_pieces(path_, cls + "/gt_masks", image_counts)});
}

void ShardedTestFeaturesWriter::commit() {
  shard_->commit();
  comm_.barrier();  // every shard in place before the artifact names them
  if (!main_) return;
  // Attributes when the classes share one grid: the files and readers from before mixed sizes.
  bool one_grid = true;
  for (const auto& g : grids_) one_grid = one_grid && g.second == grids_.front().second;
  for (const auto& [cls, g] : grids_) {
    if (one_grid) {
      main_->set_attr("feature_h", g.first);
      main_->set_attr("feature_w", g.second);
    } else {
      main_->write(cls + "/grid", torch::tensor({g.first, g.second}, torch::kInt64));
    }
  }
  main_->set_attr("shards", static_cast<int64_t>(comm_.size()));
  commit_with_virtuals(*main_, path_, virtuals_);
}

ShardedRowsWriter::ShardedRowsWriter(const fs::path& path, const std::string& stage,
                                     const std::string& key, const std::string& dataset,
                                     int64_t rows, int64_t dim, io::DType dtype, dist::Comm& comm)
    : path_(path), dataset_(dataset), rows_(rows), dim_(dim), dtype_(dtype), comm_(comm) {
  shard_ = std::make_unique<io::H5Writer>(shard_path(path, comm.rank(), comm.size()),
                                          stage + "_shard", key);
  shard_->create(dataset, dtype, {rows, dim});
  shard_->set_attr("shard", static_cast<int64_t>(comm.rank()));
  shard_->set_attr("shards", static_cast<int64_t>(comm.size()));
  if (comm.rank() == 0) main_ = std::make_unique<io::H5Writer>(staging_path(path), stage, key);
}

ShardedRowsWriter::~ShardedRowsWriter() = default;

void ShardedRowsWriter::append(const at::Tensor& rows, int64_t first_row) {
  if (rows.size(0) == 0) return;
  shard_->write_rows(dataset_, first_row, rows);
  // Consecutive pieces merge: one mapping per run of rows.
  if (!pieces_.empty() && pieces_[pieces_.size() - 2] + pieces_.back() == first_row) {
    pieces_.back() += rows.size(0);
  } else {
    pieces_.push_back(first_row);
    pieces_.push_back(rows.size(0));
  }
}

void ShardedRowsWriter::commit() {
  shard_->commit();
  const auto mine = torch::tensor(pieces_, torch::kInt64).view({-1, 2});
  const auto counts = counts_of(mine.size(0), comm_);  // also: every shard committed
  const auto all = comm_.allgatherv(mine);
  if (!main_) return;
  std::vector<io::VirtualPiece> pieces;
  const auto a = all.accessor<int64_t, 2>();
  int64_t covered = 0;
  for (int r = 0, i = 0; r < comm_.size(); ++r)
    for (int64_t k = 0; k < counts[r]; ++k, ++i) {
      pieces.push_back({shard_path(path_, r, comm_.size()).filename().string(), dataset_, a[i][0],
                        a[i][1], a[i][0]});
      covered += a[i][1];
    }
  TC_ASSERT(covered == rows_, path_.string(), ": ", covered,
            " rows written by the ranks, expected ", rows_);
  commit_with_virtuals(*main_, path_, {{dataset_, dtype_, {rows_, dim_}, pieces}});
}

}  // namespace tc::pipeline
