// HDF5 virtual datasets that concatenate the rows of datasets in other files
// (per-rank shards): h5py opens the result as one ordinary dataset.
//
// Source files are named relative to the virtual file's folder (HDF5 looks
// there, h5py included), so a run directory can be moved as a whole. A
// missing source reads as the fill value -- NaN for floats, 255 for uint8 --
// never as plausible data; check_virtual_sources() turns it into an error.
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
std::vector<VirtualPiece> virtual_pieces(const std::filesystem::path& path, const std::string& name);

/// Every source of every virtual dataset of `path` exists beside it, opens,
/// carries `config_hash` (when non-empty) and holds the rows mapped from it;
/// otherwise fails with one line naming the virtual file, the source and what
/// was expected.
void check_virtual_sources(const std::filesystem::path& path, const std::string& config_hash);

}  // namespace tc::io
