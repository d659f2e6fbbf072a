#include "tailedcore/io/virtual_rows.h"

#include <hdf5.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "tailedcore/core/check.h"
#include "hdf5_error.h"

namespace tc::io {
namespace fs = std::filesystem;

namespace {

std::string hdf5_cause() {
  const std::string cause = hdf5_innermost_error();
  return cause.empty() ? "unknown cause" : cause;
}

// A C API handle closed by its own close function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

hid_t checked(hid_t id, const fs::path& path, const std::string& what) {
  TC_CHECK(id >= 0, path.string(), ": HDF5 error ", what, " (", hdf5_cause(), ")");
  return id;
}

void checked_status(herr_t s, const fs::path& path, const std::string& what) {
  TC_CHECK(s >= 0, path.string(), ": HDF5 error ", what, " (", hdf5_cause(), ")");
}

// File types as hdf5.cpp writes them (float16: IEEE half, h5py's '<f2').
hid_t file_type(DType d) {
  switch (d) {
    case DType::kFloat32: return H5Tcopy(H5T_IEEE_F32LE);
    case DType::kFloat64: return H5Tcopy(H5T_IEEE_F64LE);
    case DType::kInt64: return H5Tcopy(H5T_STD_I64LE);
    case DType::kUInt8: return H5Tcopy(H5T_STD_U8LE);
    case DType::kFloat16: {
      const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
      H5Tset_fields(t, 15, 10, 5, 0, 10);
      H5Tset_size(t, 2);
      H5Tset_ebias(t, 15);
      return t;
    }
  }
  TC_FAIL("unknown dtype");
}

fs::path source_path(const fs::path& virtual_file, const std::string& file) {
  const fs::path p(file);
  return p.is_absolute() ? p : virtual_file.parent_path() / p;
}

}  // namespace

void add_virtual_rows(const fs::path& path, const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                      const std::vector<VirtualPiece>& pieces) {
  TC_CHECK(!shape.empty(), path.string(), ": virtual dataset /", name, " needs a shape");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const int rank = static_cast<int>(shape.size());
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle type(file_type(dtype), H5Tclose);
  Handle dcpl(checked(H5Pcreate(H5P_DATASET_CREATE), path, "creating /" + name), H5Pclose);
  // Rows no source fills read as NaN (floats) or 255: never as data.
  if (dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kFloat64) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    checked_status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan), path, "setting /" + name + "'s fill value");
  } else {
    const int64_t fill = dtype == DType::kUInt8 ? 255 : -1;
    checked_status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_INT64, &fill), path, "setting /" + name + "'s fill value");
  }
  for (const auto& p : pieces) {
    if (p.rows == 0) continue;
    TC_CHECK(p.dest >= 0 && p.dest + p.rows <= shape[0], path.string(), ": virtual rows [", p.dest, ", ",
             p.dest + p.rows, ") of /", name, " exceed its ", shape[0], " rows");
    std::vector<hsize_t> start(rank, 0), count(dims);
    start[0] = static_cast<hsize_t>(p.dest);
    count[0] = static_cast<hsize_t>(p.rows);
    Handle vspace(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
    H5Sselect_hyperslab(vspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    std::vector<hsize_t> src_dims(dims);
    src_dims[0] = static_cast<hsize_t>(p.first + p.rows);
    Handle sspace(H5Screate_simple(rank, src_dims.data(), nullptr), H5Sclose);
    start[0] = static_cast<hsize_t>(p.first);
    H5Sselect_hyperslab(sspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    checked_status(H5Pset_virtual(dcpl.get(), vspace.get(), p.file.c_str(), p.dataset.c_str(), sspace.get()), path,
                   "mapping " + p.file + " /" + p.dataset + " into /" + name);
  }
  Handle file(checked(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), path, "opening the file to add /" + name),
              H5Fclose);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle space(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
  Handle ds(checked(H5Dcreate2(file.get(), name.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                    path, "creating virtual dataset /" + name),
            H5Dclose);
}

std::vector<VirtualPiece> virtual_pieces(const fs::path& path, const std::string& name) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file(checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "opening the file"), H5Fclose);
  Handle ds(checked(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), path, "opening /" + name), H5Dclose);
  Handle dcpl(checked(H5Dget_create_plist(ds.get()), path, "reading /" + name + "'s layout"), H5Pclose);
  std::vector<VirtualPiece> out;
  if (H5Pget_layout(dcpl.get()) != H5D_VIRTUAL) return out;
  size_t n = 0;
  checked_status(H5Pget_virtual_count(dcpl.get(), &n), path, "reading /" + name + "'s mappings");
  for (size_t i = 0; i < n; ++i) {
    VirtualPiece p;
    const ssize_t fl = H5Pget_virtual_filename(dcpl.get(), i, nullptr, 0);
    const ssize_t dl = H5Pget_virtual_dsetname(dcpl.get(), i, nullptr, 0);
    TC_CHECK(fl >= 0 && dl >= 0, path.string(), ": HDF5 error reading mapping ", i, " of /", name, " (", hdf5_cause(), ")");
    std::string f(static_cast<size_t>(fl) + 1, '\0'), d(static_cast<size_t>(dl) + 1, '\0');
    H5Pget_virtual_filename(dcpl.get(), i, f.data(), f.size());
    H5Pget_virtual_dsetname(dcpl.get(), i, d.data(), d.size());
    f.resize(static_cast<size_t>(fl));
    d.resize(static_cast<size_t>(dl));
    p.file = f;
    p.dataset = d;
    Handle vs(H5Pget_virtual_vspace(dcpl.get(), i), H5Sclose);
    Handle ss(H5Pget_virtual_srcspace(dcpl.get(), i), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(vs.get());
    std::vector<hsize_t> lo(rank), hi(rank), slo(rank), shi(rank);
    checked_status(H5Sget_select_bounds(vs.get(), lo.data(), hi.data()), path, "reading mapping of /" + name);
    checked_status(H5Sget_select_bounds(ss.get(), slo.data(), shi.data()), path, "reading mapping of /" + name);
    p.dest = static_cast<int64_t>(lo[0]);
    p.rows = static_cast<int64_t>(hi[0] - lo[0] + 1);
    p.first = static_cast<int64_t>(slo[0]);
    out.push_back(p);
  }
  return out;
}

void check_virtual_sources(const fs::path& path, const std::string& config_hash) {
  const H5Reader r(path);
  std::map<std::string, bool> hash_checked;
  for (const auto& name : r.datasets()) {
    for (const auto& p : virtual_pieces(path, name)) {
      const fs::path src = source_path(path, p.file);
      TC_CHECK(fs::exists(src), path.string(), ": /", name, " reads rows from ", src.string(),
               ", which does not exist: expected every shard of the file beside it");
      const H5Reader s(src);
      if (!config_hash.empty() && !hash_checked.count(p.file)) {
        TC_CHECK(s.has_attr("config_hash") && s.attr_string("config_hash") == config_hash, path.string(), ": shard ",
                 src.string(), " was made with another config or other inputs (config_hash ",
                 s.has_attr("config_hash") ? s.attr_string("config_hash") : std::string("missing"), ", expected ",
                 config_hash, ")");
        hash_checked[p.file] = true;
      }
      TC_CHECK(s.has(p.dataset), path.string(), ": shard ", src.string(), " has no /", p.dataset,
               ": expected the rows /", name, " maps from it");
      const auto shape = s.shape(p.dataset);
      TC_CHECK(!shape.empty() && shape[0] >= p.first + p.rows, path.string(), ": shard ", src.string(), " /",
               p.dataset, " has ", shape.empty() ? 0 : shape[0], " rows: expected at least ", p.first + p.rows);
    }
  }
}

}  // namespace tc::io
