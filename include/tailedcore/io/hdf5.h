// HDF5 artifacts: tensors, string lists and attributes, written atomically.
//
// Files open with h5py: datasets are row-major; float16 is IEEE half
// (h5py's '<f2'); strings are variable-length UTF-8. Names may contain '/':
// intermediate groups are created ("bottle/image_scores").
//
// H5Writer writes to "<path>.tmp-<pid>@<host>" and renames on commit(); a writer
// destroyed without commit() (an exception, a crash) removes its temporary
// file, so no half-written artifact is ever left under the final name. A
// write that fails (a full disk) is an error naming the file and the system's
// cause ("No space left on device (ENOSPC)"), never a crash while unwinding
// (src/io/failsafe_driver.h says why HDF5 alone crashed there).
// Every file it writes gets root attributes `stage`, `config_hash`,
// `tailedcore_version`; H5Reader reads any HDF5 file (h5py's too) and
// requires none of them. Numeric datasets carry Fletcher-32 checksums, so
// damage is a read error, and every HDF5 failure is a tc::Error of one line
// naming the file, the dataset or attribute, HDF5's cause and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/core/names.h"

namespace at {
class Tensor;
}

namespace tc::io {

enum class DType { kFloat32, kFloat16, kFloat64, kInt64, kUInt8 };

/// "float32" | "float16" | "float64" | "int64" | "uint8".
const core::NameTable<DType>& dtypes();
/// The dtypes features may be stored in: "float32" | "float16" (config model.feature_dtype).
const core::NameTable<DType>& feature_dtypes();
std::string dtype_name(DType d);

class H5Writer {
 public:
  H5Writer(std::filesystem::path path, const std::string& stage, const std::string& config_hash);
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  /// Writes a whole CPU tensor (float32, float16, float64, int64 or uint8; any rank >= 1).
  void write(const std::string& name, const at::Tensor& tensor);
  void write_strings(const std::string& name, const std::vector<std::string>& values);

  /// Streaming: creates [shape] of `dtype` (chunked by rows), then fills it
  /// block by block with write_rows; rows are cast to the dataset's dtype.
  void create(const std::string& name, DType dtype, const std::vector<int64_t>& shape);
  void write_rows(const std::string& name, int64_t first_row, const at::Tensor& rows);

  /// Attributes on the root group (dataset = "") or on a dataset.
  void set_attr(const std::string& key, const std::string& value, const std::string& dataset = "");
  void set_attr(const std::string& key, int64_t value, const std::string& dataset = "");
  void set_attr(const std::string& key, double value, const std::string& dataset = "");

  /// Flushes, closes and renames the temporary file to its final path.
  void commit();
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Impl;
  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

class H5Reader {
 public:
  /// Fails with a one-line error naming the file if it is missing or not HDF5.
  explicit H5Reader(std::filesystem::path path);
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  bool has(const std::string& name) const;
  std::vector<int64_t> shape(const std::string& name) const;
  DType dtype(const std::string& name) const;
  /// The dataset as a CPU tensor of its own dtype.
  at::Tensor read(const std::string& name) const;
  /// Rows [first, first + count) of a dataset of rank >= 1; a read larger
  /// than the machine's memory is an error naming the declared shape.
  at::Tensor read_rows(const std::string& name, int64_t first, int64_t count) const;
  std::vector<std::string> read_strings(const std::string& name) const;

  bool has_attr(const std::string& key, const std::string& dataset = "") const;
  std::string attr_string(const std::string& key, const std::string& dataset = "") const;
  int64_t attr_int(const std::string& key, const std::string& dataset = "") const;
  double attr_double(const std::string& key, const std::string& dataset = "") const;

  /// Fails naming the file and dataset unless its rank is `rank` and every
  /// non-negative entry of `dims` matches (-1 = any size).
  void expect_shape(const std::string& name, const std::vector<int64_t>& dims) const;

  /// Every dataset's path ("bottle/image_scores"), sorted.
  std::vector<std::string> datasets() const;
  /// Reads every dataset through (chunk checksums included): fails with one
  /// line naming the file and the dataset when any part cannot be read.
  void verify() const;
  /// Rows [first, first + count) of one dataset read through (count < 0: to the end).
  void verify_rows(const std::string& name, int64_t first = 0, int64_t count = -1) const;

  /// The artifact integrity rule (io/virtual_rows.h, check_virtual_sources),
  /// for one dataset: no external raw storage, and when it is virtual, every
  /// source a plain dataset in a file inside this file's folder, shards
  /// matching their names and this file. read_rows() and read_strings() run
  /// it once per dataset before reading, so every reader obeys it.
  void check(const std::string& name) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Impl;
  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tc::io
