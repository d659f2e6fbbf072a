#include "tailedcore/io/virtual_rows.h"

#include <hdf5.h>

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

#include "dataset_rules.h"
#include "failsafe_driver.h"
#include "hdf5_error.h"
#include "tailedcore/core/check.h"

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
    case DType::kFloat32:
      return H5Tcopy(H5T_IEEE_F32LE);
    case DType::kFloat64:
      return H5Tcopy(H5T_IEEE_F64LE);
    case DType::kInt64:
      return H5Tcopy(H5T_STD_I64LE);
    case DType::kUInt8:
      return H5Tcopy(H5T_STD_U8LE);
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

}  // namespace

void add_virtual_rows(const fs::path& path, const std::string& name, DType dtype,
                      const std::vector<int64_t>& shape, const std::vector<VirtualPiece>& pieces) {
  TC_CHECK(!shape.empty(), path.string(), ": virtual dataset /", name, " needs a shape");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const int rank = static_cast<int>(shape.size());
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle type(file_type(dtype), H5Tclose);
  Handle dcpl(checked(H5Pcreate(H5P_DATASET_CREATE), path, "creating /" + name), H5Pclose);
  // Rows no source fills read as NaN (floats) or 255: never as data.
  if (dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kFloat64) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    checked_status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan), path,
                   "setting /" + name + "'s fill value");
  } else {
    const int64_t fill = dtype == DType::kUInt8 ? 255 : -1;
    checked_status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_INT64, &fill), path,
                   "setting /" + name + "'s fill value");
  }
  for (const auto& p : pieces) {
    if (p.rows == 0) continue;
    TC_CHECK(p.dest >= 0 && p.dest + p.rows <= shape[0], path.string(), ": virtual rows [", p.dest,
             ", ", p.dest + p.rows, ") of /", name, " exceed its ", shape[0], " rows");
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
    checked_status(
        H5Pset_virtual(dcpl.get(), vspace.get(), p.file.c_str(), p.dataset.c_str(), sspace.get()),
        path, "mapping " + p.file + " /" + p.dataset + " into /" + name);
  }
  {
    // Written as H5Writer writes (failsafe_driver.h): a full disk fails the
    // check below, never the process.
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_driver(fapl.get(), failsafe_driver(), nullptr);
    Handle file(checked(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()), path,
                        "opening the file to add /" + name),
                H5Fclose);
    struct Closing {  // destroyed just before `file`
      std::string name;
      ~Closing() { begin_close(name); }
    } closing{path.string()};
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Handle space(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
    Handle ds(checked(H5Dcreate2(file.get(), name.c_str(), type.get(), space.get(), lcpl.get(),
                                 dcpl.get(), H5P_DEFAULT),
                      path, "creating virtual dataset /" + name),
              H5Dclose);
  }
  const std::string lost = write_failure(path.string());
  forget_file(path.string());
  TC_CHECK(lost.empty(), path.string(), ": HDF5 error adding virtual dataset /", name, ": ", lost,
           ": expected room for the file (is the disk full?)");
}

namespace {

// The pieces of a virtual dataset from its creation property list.
std::vector<VirtualPiece> pieces_of(const fs::path& path, hid_t dcpl, const std::string& name) {
  std::vector<VirtualPiece> out;
  if (H5Pget_layout(dcpl) != H5D_VIRTUAL) return out;
  size_t n = 0;
  checked_status(H5Pget_virtual_count(dcpl, &n), path, "reading /" + name + "'s mappings");
  for (size_t i = 0; i < n; ++i) {
    VirtualPiece p;
    const ssize_t fl = H5Pget_virtual_filename(dcpl, i, nullptr, 0);
    const ssize_t dl = H5Pget_virtual_dsetname(dcpl, i, nullptr, 0);
    TC_CHECK(fl >= 0 && dl >= 0, path.string(), ": HDF5 error reading mapping ", i, " of /", name,
             " (", hdf5_cause(), ")");
    std::string f(static_cast<size_t>(fl) + 1, '\0'), d(static_cast<size_t>(dl) + 1, '\0');
    H5Pget_virtual_filename(dcpl, i, f.data(), f.size());
    H5Pget_virtual_dsetname(dcpl, i, d.data(), d.size());
    f.resize(static_cast<size_t>(fl));
    d.resize(static_cast<size_t>(dl));
    p.file = f;
    p.dataset = d;
    Handle vs(H5Pget_virtual_vspace(dcpl, i), H5Sclose);
    Handle ss(H5Pget_virtual_srcspace(dcpl, i), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(vs.get());
    TC_CHECK(rank >= 1, path.string(), ": mapping ", i, " of /", name, " has no rows");
    std::vector<hsize_t> lo(rank), hi(rank), slo(rank), shi(rank);
    checked_status(H5Sget_select_bounds(vs.get(), lo.data(), hi.data()), path,
                   "reading mapping of /" + name);
    checked_status(H5Sget_select_bounds(ss.get(), slo.data(), shi.data()), path,
                   "reading mapping of /" + name);
    p.dest = static_cast<int64_t>(lo[0]);
    p.rows = static_cast<int64_t>(hi[0] - lo[0] + 1);
    p.first = static_cast<int64_t>(slo[0]);
    out.push_back(p);
  }
  return out;
}

// External raw storage reads the bytes of any file the process can open
// ("/etc/passwd") as the dataset's values: refused for every dataset.
void check_no_external(const fs::path& path, hid_t dcpl, const std::string& name) {
  const int n = H5Pget_external_count(dcpl);
  if (n <= 0) return;
  char file[1024] = {0};
  off_t offset = 0;
  hsize_t size = 0;
  H5Pget_external(dcpl, 0, sizeof file - 1, file, &offset, &size);
  TC_FAIL(path.string(), ": dataset /", name, " keeps its values in ", n, " external file(s) (",
          file, "): expected them inside the HDF5 file (external raw storage is refused)");
}

// The layout of `dataset` in `file` as a plain source: neither virtual (no
// chains or loops of mappings) nor external.
void check_plain_source(const fs::path& artifact, const std::string& name, hid_t file,
                        const fs::path& src, const std::string& dataset) {
  Handle ds(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  TC_CHECK(ds.get() >= 0, artifact.string(), ": /", name, " reads rows from ", src.string(), " /",
           dataset, ", which it does not hold (", hdf5_cause(),
           "): expected every mapped dataset in its source");
  Handle dcpl(checked(H5Dget_create_plist(ds.get()), src, "reading /" + dataset + "'s layout"),
              H5Pclose);
  TC_CHECK(H5Pget_layout(dcpl.get()) != H5D_VIRTUAL, artifact.string(), ": /", name,
           " reads rows from ", src.string(), " /", dataset,
           ", which is itself virtual: expected a plain dataset");
  check_no_external(src, dcpl.get(), dataset);
}

}  // namespace

bool parse_shard_name(const std::string& filename, int64_t& shard, int64_t& shards) {
  static const std::regex pattern(R"(.*\.shard-([0-9]{1,9})-of-([0-9]{1,9})\.h5)");
  std::smatch m;
  if (!std::regex_match(filename, m, pattern)) return false;
  shard = std::stoll(m[1]);
  shards = std::stoll(m[2]);
  return true;
}

std::vector<VirtualPiece> virtual_pieces(const fs::path& path, const std::string& name) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file(checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "opening the file"),
              H5Fclose);
  Handle ds(checked(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), path, "opening /" + name),
            H5Dclose);
  Handle dcpl(checked(H5Dget_create_plist(ds.get()), path, "reading /" + name + "'s layout"),
              H5Pclose);
  return pieces_of(path, dcpl.get(), name);
}

void check_dataset_rule(const H5Reader& artifact, hid_t dataset, const std::string& name) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const fs::path& path = artifact.path();
  Handle dcpl(checked(H5Dget_create_plist(dataset), path, "reading /" + name + "'s layout"),
              H5Pclose);
  check_no_external(path, dcpl.get(), name);
  const auto pieces = pieces_of(path, dcpl.get(), name);
  if (pieces.empty()) return;
  const std::string hash =
      artifact.has_attr("config_hash") ? artifact.attr_string("config_hash") : "";
  const int64_t shards = artifact.has_attr("shards") ? artifact.attr_int("shards") : -1;
  std::set<std::string> seen;
  for (const auto& p : pieces) {
    if (p.file == ".") {  // a source in the file itself (h5py writes these)
      Handle self(
          checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "opening the file"),
          H5Fclose);
      check_plain_source(path, name, self.get(), path, p.dataset);
      continue;
    }
    const fs::path rel = fs::path(p.file).lexically_normal();
    TC_CHECK(!rel.is_absolute() && !rel.empty() && *rel.begin() != "..", path.string(), ": /", name,
             " reads rows from ", p.file,
             ": expected a file inside the artifact's folder, named relative to it");
    const fs::path src = path.parent_path() / rel;
    TC_CHECK(fs::is_regular_file(src), path.string(), ": /", name, " reads rows from ",
             src.string(), ", which does not exist: expected every shard of the file beside it");
    if (!seen.insert(p.file).second) continue;
    {
      Handle f(checked(H5Fopen(src.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), src,
                       "opening the shard of " + path.string()),
               H5Fclose);
      check_plain_source(path, name, f.get(), src, p.dataset);
    }
    const H5Reader s(src);
    // Shard identity: the number in its name, its own record of it, and the
    // rank count of the artifact agree (two shards swapped on disk are refused).
    int64_t named = -1, named_of = -1;
    const bool by_name = parse_shard_name(rel.filename().string(), named, named_of);
    const bool by_attr = s.has_attr("shard") || s.has_attr("shards");
    if (by_name || by_attr) {
      const int64_t own = s.has_attr("shard") ? s.attr_int("shard") : -1;
      const int64_t own_of = s.has_attr("shards") ? s.attr_int("shards") : -1;
      TC_CHECK(by_name && own == named && own_of == named_of, path.string(), ": shard ",
               src.string(), " records shard ", own, " of ", own_of, ": expected ",
               by_name ? "shard " + std::to_string(named) + " of " + std::to_string(named_of) +
                             " as its name says"
                       : std::string("a name <stem>.shard-<shard>-of-<shards>.h5"),
               " (shard files swapped or renamed?)");
      TC_CHECK(shards < 0 || own_of == shards, path.string(), ": shard ", src.string(),
               " is one of ", own_of, " shards: expected one of the artifact's ", shards);
    }
    if (!hash.empty() && (by_name || by_attr || s.has_attr("config_hash"))) {
      const std::string theirs =
          s.has_attr("config_hash") ? s.attr_string("config_hash") : std::string("missing");
      TC_CHECK(theirs == hash, path.string(), ": shard ", src.string(),
               " was made with another config or other inputs (config_hash ", theirs, ", expected ",
               hash, ")");
    }
  }
  for (const auto& p : pieces) {
    if (p.file == ".") continue;
    const fs::path src = path.parent_path() / fs::path(p.file).lexically_normal();
    const auto shape = H5Reader(src).shape(p.dataset);
    TC_CHECK(!shape.empty() && shape[0] >= p.first + p.rows, path.string(), ": shard ",
             src.string(), " /", p.dataset, " has ", shape.empty() ? 0 : shape[0],
             " rows: expected at least ", p.first + p.rows);
  }
}

void check_virtual_sources(const fs::path& path) {
  const H5Reader r(path);
  for (const auto& name : r.datasets()) r.check(name);
}

void verify_share(const fs::path& path, int rank, int ranks) {
  TC_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "verify_share: rank ", rank, " of ", ranks);
  const H5Reader r(path);
  // Units of work: the artifact's own datasets, then each source file with its pieces.
  std::vector<std::string> own;
  std::map<std::string, std::vector<VirtualPiece>> sources;
  for (const auto& name : r.datasets()) {
    r.check(name);  // every rank: metadata only
    const auto pieces = virtual_pieces(path, name);
    if (pieces.empty()) own.push_back(name);
    for (const auto& p : pieces)  // "." pieces: rows of the artifact's own datasets
      if (p.file != ".") sources[p.file].push_back(p);
  }
  int unit = 0;
  for (const auto& name : own)
    if (unit++ % ranks == rank) r.verify_rows(name);
  for (const auto& [file, pieces] : sources) {
    int64_t shard = -1, shards = -1;
    const bool matched =
        parse_shard_name(fs::path(file).filename().string(), shard, shards) && shards == ranks;
    const int owner = matched ? static_cast<int>(shard) : unit % ranks;
    ++unit;
    if (owner != rank) continue;
    const H5Reader s(path.parent_path() / fs::path(file).lexically_normal());
    for (const auto& p : pieces) s.verify_rows(p.dataset, p.first, p.rows);
  }
}

}  // namespace tc::io
