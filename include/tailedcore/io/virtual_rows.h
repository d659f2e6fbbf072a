// HDF5 virtual datasets that concatenate the rows of datasets in other files
// (per-rank shards): h5py opens the result as one ordinary dataset.
//
// Source files are named relative to the virtual file's folder (HDF5 looks
// there, h5py included), so a run directory can be moved as a whole. A
// missing source reads as the fill value -- NaN for floats, 255 for uint8 --
// never as plausible data; check_virtual_sources() turns it into an error,
// and every H5Reader runs it before reading a dataset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tailedcore/io/hdf5.h"

namespace tc::io {

/// Rows [first, first + rows) of `dataset` in `file` go to rows
/// [dest, dest + rows) of the virtual dataset.
struct VirtualPiece {
  std::string file;  // relative to the virtual file's folder (or absolute)
  std::string dataset;
  int64_t first = 0;
  int64_t rows = 0;
  int64_t dest = 0;
};

/// Adds the virtual dataset `name` of shape [rows, trailing...] and `dtype`
/// to the existing, closed HDF5 file `path` (opened read-write, then closed
/// again). Pieces must not overlap; rows no piece covers read as the fill value.
void add_virtual_rows(const std::filesystem::path& path, const std::string& name, DType dtype,
                      const std::vector<int64_t>& shape, const std::vector<VirtualPiece>& pieces);

/// The pieces of virtual dataset `name` of `path` (empty when it is not virtual).
std::vector<VirtualPiece> virtual_pieces(const std::filesystem::path& path,
                                         const std::string& name);

/// The artifact integrity rule, one for every reader (H5Reader::check runs it
/// on each dataset before its first read; this runs it on all of them):
/// - no dataset keeps its values in external raw storage;
/// - a virtual dataset's sources are plain datasets (neither virtual nor
///   external) in files inside the artifact's folder, named relative to it
///   (an absolute name or one leaving the folder is refused), which exist and
///   hold the rows mapped from them;
/// - a source named <stem>.shard-<r>-of-<R>.h5, or one recording attributes
///   `shard`/`shards`, records exactly r and R, and R is the artifact's
///   `shards` attribute when it has one: swapped or renamed shards are refused;
/// - when the artifact has a `config_hash`, its shards carry the same.
/// Fails with one line naming the artifact, the source and what was expected.
void check_virtual_sources(const std::filesystem::path& path);

/// r and R of a file named "<stem>.shard-<r>-of-<R>.h5" (pipeline/feature_shards.h).
bool parse_shard_name(const std::string& filename, int64_t& shard, int64_t& shards);

/// Rank `rank` of `ranks`'s share of checking an artifact: the integrity rule
/// on every dataset (metadata only), then reads its share through (Fletcher-32
/// checks every chunk read): shard r of R is rank r's when R == ranks; the
/// artifact's own datasets and other sources are dealt out in name order.
/// All ranks' shares together read every byte once. Fails like H5Reader.
void verify_share(const std::filesystem::path& path, int rank, int ranks);

}  // namespace tc::io
