#include "tailedcore/io/hdf5.h"

#include <H5Cpp.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "dataset_rules.h"
#include "failsafe_driver.h"
#include "hdf5_error.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"
#include "tailedcore/io/files.h"

namespace tc::io {
namespace fs = std::filesystem;

namespace {

// IEEE half as h5py writes it ('<f2'): HDF5 1.10 has no predefined type.
H5::FloatType half_type() {
  H5::FloatType t(H5::PredType::IEEE_F32LE);
  t.setFields(15, 10, 5, 0, 10);
  t.setSize(2);
  t.setEbias(15);
  return t;
}

H5::DataType file_type(DType d) {
  switch (d) {
    case DType::kFloat32:
      return H5::PredType::IEEE_F32LE;
    case DType::kFloat16:
      return half_type();
    case DType::kFloat64:
      return H5::PredType::IEEE_F64LE;
    case DType::kInt64:
      return H5::PredType::STD_I64LE;
    case DType::kUInt8:
      return H5::PredType::STD_U8LE;
  }
  TC_FAIL("unknown dtype");
}

torch::ScalarType scalar_type(DType d) {
  switch (d) {
    case DType::kFloat32:
      return torch::kFloat32;
    case DType::kFloat16:
      return torch::kFloat16;
    case DType::kFloat64:
      return torch::kFloat64;
    case DType::kInt64:
      return torch::kInt64;
    case DType::kUInt8:
      return torch::kUInt8;
  }
  TC_FAIL("unknown dtype");
}

DType dtype_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return DType::kFloat32;
    case torch::kFloat16:
      return DType::kFloat16;
    case torch::kFloat64:
      return DType::kFloat64;
    case torch::kInt64:
      return DType::kInt64;
    case torch::kUInt8:
      return DType::kUInt8;
    default:
      TC_FAIL("cannot write a tensor of dtype ", t.scalar_type(), " to HDF5: expected ",
              core::join_names(dtypes().names()));
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << (s[i] < 0 ? std::string("*") : std::to_string(s[i]));
  os << "]";
  return os.str();
}

long double physical_memory() {
  static const long double bytes = static_cast<long double>(sysconf(_SC_PHYS_PAGES)) *
                                   static_cast<long double>(sysconf(_SC_PAGESIZE));
  return bytes;
}

std::string gib(long double bytes) {
  std::ostringstream os;
  os.precision(3);
  os << static_cast<double>(bytes / (1024.0L * 1024.0L * 1024.0L)) << " GiB";
  return os.str();
}

// What went wrong, from the innermost record of HDF5's error stack ("truncated
// file: eof = 100, ...", "file signature not found"); the exception itself
// names only the outermost call ("H5Fopen failed").
std::string hdf5_cause(const H5::Exception& e) {
  const std::string cause = hdf5_innermost_error();
  return cause.empty() ? e.getDetailMsg() : cause;
}

// Every HDF5 call of the reader runs inside this (the writer's inside
// writing(), below): the C++ API's exceptions derive from no std::exception
// (uncaught, they end the process with "terminate called"), so each becomes
// one line naming the file, what was being done (the dataset or attribute)
// and what was expected.
template <class F>
auto guarded(const fs::path& path, const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const H5::Exception& e) {
    TC_FAIL(path.string(), ": HDF5 error ", what, " (", hdf5_cause(e),
            "): expected a complete, undamaged HDF5 file");
  }
}

// A writer's HDF5 call: as guarded(), and when a write of the file failed (now
// or earlier, the driver then drops every later write) the error says so with
// the system's words ("No space left on device (ENOSPC)"), not HDF5's.
template <class F>
void writing(const fs::path& path, const fs::path& tmp, const std::string& what, F&& f) {
  const auto fail_if_lost = [&] {
    const std::string lost = write_failure(tmp.string());
    TC_CHECK(
        lost.empty(), path.string(), ": HDF5 error ", what, ": ", lost,
        ": expected room for the file (is the disk full?); nothing was left under its name, and a "
        "rerun resumes from the stages already done");
  };
  try {
    f();
  } catch (const H5::Exception& e) {
    fail_if_lost();
    TC_FAIL(path.string(), ": HDF5 error ", what, " (", hdf5_cause(e),
            "): expected a writable file; is the disk full?");
  }
  fail_if_lost();
}

// After a failed write the dataset's close fails too, and H5::DataSet's
// destructor prints that to stderr ("DataSet::~DataSet - H5Dclose failed"):
// closed here instead, quietly (HDF5 drops the id even when its close fails).
template <class F>
void closing_on_failure(H5::DataSet& ds, F&& write) {
  try {
    write();
  } catch (const H5::Exception&) {
    try {
      ds.close();
    } catch (const H5::Exception&) {
    }
    throw;
  }
}

H5::LinkCreatPropList intermediate_groups() {
  H5::LinkCreatPropList p;
  H5Pset_create_intermediate_group(p.getId(), 1);
  return p;
}

std::string attr_label(const std::string& key, const std::string& dataset) {
  return "attribute '" + key + "'" + (dataset.empty() ? "" : " of /" + dataset);
}

H5::H5Object& attr_owner(H5::H5File& file, const std::string& dataset, H5::DataSet& holder) {
  if (dataset.empty()) return file;
  holder = file.openDataSet(dataset);
  return holder;
}

// What an attribute holds, in words, for "expected ..." messages.
const char* type_class_name(H5T_class_t c) {
  switch (c) {
    case H5T_STRING:
      return "a string";
    case H5T_INTEGER:
      return "an integer";
    case H5T_FLOAT:
      return "a float";
    default:
      return "neither a number nor a string";
  }
}

}  // namespace

const core::NameTable<DType>& dtypes() {
  static const core::NameTable<DType> table({{DType::kFloat32, "float32"},
                                             {DType::kFloat16, "float16"},
                                             {DType::kFloat64, "float64"},
                                             {DType::kInt64, "int64"},
                                             {DType::kUInt8, "uint8"}});
  return table;
}

const core::NameTable<DType>& feature_dtypes() {
  static const core::NameTable<DType> table(
      {{DType::kFloat32, "float32"}, {DType::kFloat16, "float16"}});
  return table;
}

std::string dtype_name(DType d) { return dtypes().name(d); }

// ---------------------------------------------------------------- writer ----

struct H5Writer::Impl {
  fs::path tmp;
  // Owned by pointer: after a failed close HDF5 has already dropped the id,
  // and H5File's destructor would close it again (a crash in HDF5 1.10).
  std::unique_ptr<H5::H5File> file;
  bool open = false;

  // Closes the file; the driver reports no write failure while closing
  // (failsafe_driver.h), so HDF5 finishes the close whatever the disk says.
  void close(const fs::path& path) {
    begin_close(tmp.string());
    open = false;
    try {
      file->close();
    } catch (const H5::Exception& e) {
      file.release();  // not closed again: see above
      forget_file(tmp.string());
      TC_FAIL(path.string(), ": HDF5 error closing the file (", hdf5_cause(e), ")");
    }
    file.reset();
  }
};

H5Writer::H5Writer(fs::path path, const std::string& stage, const std::string& config_hash)
    : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  TC_CHECK(fs::is_directory(dir), path_.string(), ": cannot create output folder ", dir.string(),
           " (", ec.message(), ")");
  TC_CHECK(access(dir.c_str(), W_OK) == 0, path_.string(), ": output folder ", dir.string(),
           " is not writable");
  impl_->tmp = temporary_path(path_);
  writing(path_, impl_->tmp, "creating the file", [&] {
    H5::FileAccPropList fapl;
    H5Pset_driver(fapl.getId(), failsafe_driver(), nullptr);
    impl_->file = std::make_unique<H5::H5File>(impl_->tmp.string(), H5F_ACC_TRUNC,
                                               H5::FileCreatPropList::DEFAULT, fapl);
  });
  impl_->open = true;
  set_attr("stage", stage);
  set_attr("config_hash", config_hash);
  set_attr("tailedcore_version", std::string(TAILEDCORE_VERSION));
}

// Runs while an error unwinds (a full disk, a failed collective): it must not
// throw, and the file must not crash HDF5 on its way out.
H5Writer::~H5Writer() {
  if (!impl_ || !impl_->open) return;
  try {
    impl_->close(path_);
  } catch (...) {
  }
  forget_file(impl_->tmp.string());
  std::error_code ec;
  fs::remove(impl_->tmp, ec);
}

void H5Writer::create(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
  TC_CHECK(impl_->open, path_.string(), ": write after commit");
  TC_CHECK(!shape.empty(), path_.string(), ": dataset /", name, " needs a shape");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  // Row chunks of about 1 MiB so that streamed row blocks and partial reads stay cheap.
  std::vector<hsize_t> chunk(dims);
  hsize_t row_bytes = 4;
  for (size_t i = 1; i < dims.size(); ++i) row_bytes *= std::max<hsize_t>(dims[i], 1);
  chunk[0] = std::max<hsize_t>(
      1, std::min<hsize_t>(std::max<hsize_t>(dims[0], 1), (1u << 20) / row_bytes));
  bool any_zero = false;
  for (auto d : dims) any_zero |= d == 0;
  writing(path_, impl_->tmp, "creating dataset /" + name, [&] {
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
    H5::DSetCreatPropList props;
    if (!any_zero) {
      props.setChunk(static_cast<int>(chunk.size()), chunk.data());
      // A checksum per chunk: a damaged artifact fails to read instead of
      // returning garbage, so the stage cache can recompute it.
      props.setFletcher32();
    }
    impl_->file->createDataSet(name, file_type(dtype), space, props, H5::DSetAccPropList::DEFAULT,
                               intermediate_groups());
  });
}

void H5Writer::write_rows(const std::string& name, int64_t first_row, const at::Tensor& rows_in) {
  TC_CHECK(impl_->open, path_.string(), ": write after commit");
  writing(path_, impl_->tmp, "writing /" + name, [&] {
    H5::DataSet ds = impl_->file->openDataSet(name);
    H5::DataSpace fspace = ds.getSpace();
    const int rank = fspace.getSimpleExtentNdims();
    std::vector<hsize_t> dims(rank);
    fspace.getSimpleExtentDims(dims.data());
    H5::DataType ftype = ds.getDataType();
    DType want = DType::kFloat32;
    if (ftype.getClass() == H5T_FLOAT)
      want = ftype.getSize() == 2   ? DType::kFloat16
             : ftype.getSize() == 8 ? DType::kFloat64
                                    : DType::kFloat32;
    else if (ftype.getClass() == H5T_INTEGER)
      want = ftype.getSize() == 1 ? DType::kUInt8 : DType::kInt64;
    torch::Tensor rows = rows_in.to(torch::kCPU, scalar_type(want)).contiguous();
    if (rows.dim() == rank - 1) rows = rows.unsqueeze(0);
    TC_CHECK(rows.dim() == rank, path_.string(), ": rows for /", name, " have rank ", rows.dim(),
             ": expected ", rank);
    for (int i = 1; i < rank; ++i)
      TC_CHECK(static_cast<hsize_t>(rows.size(i)) == dims[i], path_.string(), ": rows for /", name,
               " have shape ", rows.sizes(), ": expected trailing dims to match the dataset");
    const hsize_t n = rows.size(0);
    TC_CHECK(first_row >= 0 && first_row + n <= dims[0], path_.string(), ": rows [", first_row,
             ", ", first_row + n, ") of /", name, " exceed its ", dims[0], " rows");
    if (n == 0) return;
    std::vector<hsize_t> start(rank, 0), count(dims);
    start[0] = first_row;
    count[0] = n;
    fspace.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
    H5::DataSpace mspace(rank, count.data());
    closing_on_failure(ds, [&] { ds.write(rows.data_ptr(), file_type(want), mspace, fspace); });
  });
}

void H5Writer::write(const std::string& name, const at::Tensor& tensor) {
  torch::Tensor t = tensor.to(torch::kCPU).contiguous();
  TC_CHECK(t.dim() >= 1, path_.string(), ": dataset /", name, " must have rank >= 1");
  create(name, dtype_of(t), t.sizes().vec());
  if (t.numel() > 0) write_rows(name, 0, t);
}

void H5Writer::write_strings(const std::string& name, const std::vector<std::string>& values) {
  TC_CHECK(impl_->open, path_.string(), ": write after commit");
  writing(path_, impl_->tmp, "writing /" + name, [&] {
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    type.setCset(H5T_CSET_UTF8);
    hsize_t n = values.size();
    H5::DataSpace space(1, &n);
    // No checksum here: HDF5 allows no filter on variable-length strings
    // (damage there fails the read of the heap, which guarded() reports).
    H5::DataSet ds =
        impl_->file->createDataSet(name, type, space, H5::DSetCreatPropList::DEFAULT,
                                   H5::DSetAccPropList::DEFAULT, intermediate_groups());
    std::vector<const char*> ptrs;
    ptrs.reserve(values.size());
    for (const auto& s : values) ptrs.push_back(s.c_str());
    if (n > 0) closing_on_failure(ds, [&] { ds.write(ptrs.data(), type); });
  });
}

void H5Writer::set_attr(const std::string& key, const std::string& value,
                        const std::string& dataset) {
  writing(path_, impl_->tmp, "writing " + attr_label(key, dataset), [&] {
    H5::DataSet holder;
    H5::H5Object& owner = attr_owner(*impl_->file, dataset, holder);
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    type.setCset(H5T_CSET_UTF8);
    if (owner.attrExists(key)) owner.removeAttr(key);
    H5::Attribute a = owner.createAttribute(key, type, H5::DataSpace(H5S_SCALAR));
    const char* p = value.c_str();
    a.write(type, &p);
  });
}

void H5Writer::set_attr(const std::string& key, int64_t value, const std::string& dataset) {
  writing(path_, impl_->tmp, "writing " + attr_label(key, dataset), [&] {
    H5::DataSet holder;
    H5::H5Object& owner = attr_owner(*impl_->file, dataset, holder);
    if (owner.attrExists(key)) owner.removeAttr(key);
    owner.createAttribute(key, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT64, &value);
  });
}

void H5Writer::set_attr(const std::string& key, double value, const std::string& dataset) {
  writing(path_, impl_->tmp, "writing " + attr_label(key, dataset), [&] {
    H5::DataSet holder;
    H5::H5Object& owner = attr_owner(*impl_->file, dataset, holder);
    if (owner.attrExists(key)) owner.removeAttr(key);
    owner.createAttribute(key, H5::PredType::IEEE_F64LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_DOUBLE, &value);
  });
}

void H5Writer::commit() {
  TC_CHECK(impl_->open, path_.string(), ": committed twice");
  // Flushed first: a write that fails here fails the flush, which HDF5 survives.
  writing(path_, impl_->tmp, "flushing the file", [&] { impl_->file->flush(H5F_SCOPE_LOCAL); });
  const std::string tmp = impl_->tmp.string();
  try {
    impl_->close(path_);
    writing(path_, impl_->tmp, "closing the file", [] {});  // a write lost while closing
  } catch (...) {
    forget_file(tmp);
    std::error_code ec;
    fs::remove(impl_->tmp, ec);
    throw;
  }
  forget_file(tmp);
  move_into_place(impl_->tmp, path_);
}

// ---------------------------------------------------------------- reader ----

struct H5Reader::Impl {
  H5::H5File file;
  std::set<std::string> checked;  // datasets that passed check()
};

H5Reader::H5Reader(fs::path path) : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  TC_CHECK(fs::exists(path_), path_.string(), ": file does not exist");
  TC_CHECK(!fs::is_directory(path_), path_.string(), ": is a folder: expected an HDF5 file");
  guarded(path_, "opening the file", [&] {
    TC_CHECK(H5::H5File::isHdf5(path_.string()), path_.string(),
             ": not an HDF5 file (no HDF5 signature): expected an HDF5 file");
    impl_->file = H5::H5File(path_.string(), H5F_ACC_RDONLY);
  });
}

H5Reader::~H5Reader() = default;

bool H5Reader::has(const std::string& name) const {
  return guarded(path_, "looking up /" + name, [&] {
    // Walk the path so that a missing intermediate group is "absent", not an error.
    std::string prefix;
    std::stringstream ss(name);
    std::string part;
    while (std::getline(ss, part, '/')) {
      if (part.empty()) continue;
      prefix += "/" + part;
      if (!impl_->file.nameExists(prefix)) return false;
    }
    return !prefix.empty();
  });
}

std::vector<int64_t> H5Reader::shape(const std::string& name) const {
  const auto dims = guarded(path_, "reading the shape of /" + name, [&] {
    TC_CHECK(has(name), path_.string(), ": dataset /", name, " is missing");
    H5::DataSpace space = impl_->file.openDataSet(name).getSpace();
    std::vector<hsize_t> dims(space.getSimpleExtentNdims());
    space.getSimpleExtentDims(dims.data());
    return std::vector<int64_t>(dims.begin(), dims.end());
  });
  // Every reader keeps at least an 8-byte index or score per row (candidate
  // lists, LOF scores), so more rows than memory holds 8-byte values for is
  // a damaged or hand-made file, whatever the caller does next.
  const long double memory = physical_memory();
  TC_CHECK(dims.empty() || memory <= 0 || static_cast<long double>(dims[0]) * 8 <= memory,
           path_.string(), ": dataset /", name, " declares shape ", shape_str(dims),
           ": more rows than this machine's ", gib(memory),
           " of memory can hold one 8-byte value for: expected a plausible size (a damaged or "
           "hand-made file?)");
  return dims;
}

DType H5Reader::dtype(const std::string& name) const {
  return guarded(path_, "reading the type of /" + name, [&] {
    TC_CHECK(has(name), path_.string(), ": dataset /", name, " is missing");
    H5::DataType t = impl_->file.openDataSet(name).getDataType();
    if (t.getClass() == H5T_FLOAT) {
      if (t.getSize() == 4) return DType::kFloat32;
      if (t.getSize() == 2) return DType::kFloat16;
      if (t.getSize() == 8) return DType::kFloat64;
    } else if (t.getClass() == H5T_INTEGER) {
      if (t.getSize() == 8) return DType::kInt64;
      if (t.getSize() == 1) return DType::kUInt8;
    }
    TC_FAIL(path_.string(), ": dataset /", name, " has an unsupported type: expected ",
            core::join_names(dtypes().names()));
  });
}

at::Tensor H5Reader::read(const std::string& name) const {
  const auto dims = shape(name);
  TC_CHECK(!dims.empty(), path_.string(), ": dataset /", name, " is a scalar: expected an array");
  return read_rows(name, 0, dims[0]);
}

void H5Reader::check(const std::string& name) const {
  if (impl_->checked.count(name)) return;
  TC_CHECK(has(name), path_.string(), ": dataset /", name, " is missing");
  const hid_t dataset = H5Dopen2(impl_->file.getId(), name.c_str(), H5P_DEFAULT);
  TC_CHECK(dataset >= 0, path_.string(), ": HDF5 error opening /", name, " (",
           hdf5_innermost_error(), ")");
  try {
    check_dataset_rule(*this, dataset, name);
  } catch (...) {
    H5Dclose(dataset);
    throw;
  }
  H5Dclose(dataset);
  impl_->checked.insert(name);
}

namespace {

// A read larger than the machine's memory can only end in an allocation
// failure deep in LibTorch: a damaged or hand-made file declaring 1e15 rows
// gets one line instead.
void check_fits_in_memory(const fs::path& path, const std::string& name,
                          const std::vector<int64_t>& dims, DType dt, int64_t count) {
  const long double memory = physical_memory();
  long double bytes = static_cast<long double>(count) *
                      static_cast<long double>(torch::elementSize(scalar_type(dt)));
  for (size_t i = 1; i < dims.size(); ++i) bytes *= static_cast<long double>(dims[i]);
  TC_CHECK(memory <= 0 || bytes <= memory, path.string(), ": dataset /", name, " declares shape ",
           shape_str(dims), " (", dtype_name(dt), "): reading ", count, " rows of it needs ",
           gib(bytes), ", more than this machine's ", gib(memory),
           " of memory: expected a dataset that fits (a damaged or hand-made file?)");
}

}  // namespace

at::Tensor H5Reader::read_rows(const std::string& name, int64_t first, int64_t count) const {
  check(name);
  return guarded(path_, "reading /" + name, [&] {
    const auto dims = shape(name);
    const DType dt = dtype(name);
    TC_CHECK(!dims.empty() && first >= 0 && count >= 0 && first + count <= dims[0], path_.string(),
             ": rows [", first, ", ", first + count, ") of /", name, " are outside its ",
             dims.empty() ? 0 : dims[0], " rows");
    check_fits_in_memory(path_, name, dims, dt, count);
    std::vector<int64_t> out_shape(dims);
    out_shape[0] = count;
    torch::Tensor out = torch::empty(out_shape, scalar_type(dt));
    if (out.numel() == 0) return out;
    H5::DataSet ds = impl_->file.openDataSet(name);
    H5::DataSpace fspace = ds.getSpace();
    std::vector<hsize_t> start(dims.size(), 0), cnt(out_shape.begin(), out_shape.end());
    start[0] = first;
    fspace.selectHyperslab(H5S_SELECT_SET, cnt.data(), start.data());
    H5::DataSpace mspace(static_cast<int>(cnt.size()), cnt.data());
    ds.read(out.data_ptr(), file_type(dt), mspace, fspace);
    return out;
  });
}

std::vector<std::string> H5Reader::read_strings(const std::string& name) const {
  check(name);
  return guarded(path_, "reading /" + name, [&] {
    const auto dims = shape(name);
    TC_CHECK(dims.size() == 1, path_.string(), ": dataset /", name, " must be a 1-d string list");
    H5::DataSet ds = impl_->file.openDataSet(name);
    TC_CHECK(ds.getDataType().getClass() == H5T_STRING, path_.string(), ": dataset /", name,
             " holds no strings");
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    type.setCset(H5T_CSET_UTF8);
    std::vector<char*> ptrs(dims[0], nullptr);
    if (!ptrs.empty()) ds.read(ptrs.data(), type);
    std::vector<std::string> out;
    out.reserve(ptrs.size());
    for (char* p : ptrs) {
      out.emplace_back(p ? p : "");
      free(p);
    }
    return out;
  });
}

bool H5Reader::has_attr(const std::string& key, const std::string& dataset) const {
  return guarded(path_, "looking up " + attr_label(key, dataset), [&] {
    if (dataset.empty()) return impl_->file.attrExists(key);
    return has(dataset) && impl_->file.openDataSet(dataset).attrExists(key);
  });
}

namespace {

// The attribute, checked present and of one of `classes`, handed to read().
template <class Read>
auto read_attribute(const H5Reader& r, H5::H5File& file, const std::string& key,
                    const std::string& dataset, std::initializer_list<H5T_class_t> classes,
                    const char* expected, Read read) {
  const std::string label = attr_label(key, dataset);
  TC_CHECK(r.has_attr(key, dataset), r.path().string(), ": ", label, " is missing");
  return guarded(r.path(), "reading " + label, [&] {
    H5::DataSet holder;
    H5::Attribute a = attr_owner(file, dataset, holder).openAttribute(key);
    const H5T_class_t c = a.getTypeClass();
    TC_CHECK(std::find(classes.begin(), classes.end(), c) != classes.end(), r.path().string(), ": ",
             label, " is ", type_class_name(c), ": expected ", expected);
    return read(a);
  });
}

}  // namespace

std::string H5Reader::attr_string(const std::string& key, const std::string& dataset) const {
  return read_attribute(*this, impl_->file, key, dataset, {H5T_STRING}, "a string",
                        [](H5::Attribute& a) {
                          std::string value;
                          a.read(a.getStrType(), value);
                          return value;
                        });
}

int64_t H5Reader::attr_int(const std::string& key, const std::string& dataset) const {
  return read_attribute(*this, impl_->file, key, dataset, {H5T_INTEGER}, "an integer",
                        [](H5::Attribute& a) {
                          int64_t value = 0;
                          a.read(H5::PredType::NATIVE_INT64, &value);
                          return value;
                        });
}

double H5Reader::attr_double(const std::string& key, const std::string& dataset) const {
  return read_attribute(*this, impl_->file, key, dataset, {H5T_FLOAT, H5T_INTEGER}, "a number",
                        [](H5::Attribute& a) {
                          double value = 0;
                          a.read(H5::PredType::NATIVE_DOUBLE, &value);
                          return value;
                        });
}

namespace {

void collect_datasets(H5::Group& group, const std::string& prefix, std::vector<std::string>& out) {
  for (hsize_t i = 0, n = group.getNumObjs(); i < n; ++i) {
    const std::string name = group.getObjnameByIdx(i);
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    const H5O_type_t type = group.childObjType(name);
    if (type == H5O_TYPE_DATASET) {
      out.push_back(path);
    } else if (type == H5O_TYPE_GROUP) {
      H5::Group sub = group.openGroup(name);
      collect_datasets(sub, path, out);
    }
  }
}

}  // namespace

std::vector<std::string> H5Reader::datasets() const {
  return guarded(path_, "listing its datasets", [&] {
    std::vector<std::string> out;
    H5::Group root = impl_->file.openGroup("/");
    collect_datasets(root, "", out);
    std::sort(out.begin(), out.end());
    return out;
  });
}

void H5Reader::verify() const {
  for (const auto& name : datasets()) verify_rows(name);
}

void H5Reader::verify_rows(const std::string& name, int64_t first, int64_t count) const {
  const bool strings = guarded(path_, "reading the type of /" + name, [&] {
    return impl_->file.openDataSet(name).getDataType().getClass() == H5T_STRING;
  });
  if (strings) {
    read_strings(name);
    return;
  }
  const auto dims = shape(name);
  if (dims.empty()) return;
  const int64_t end = count < 0 ? dims[0] : first + count;
  int64_t row_values = 1;
  for (size_t i = 1; i < dims.size(); ++i) row_values *= std::max<int64_t>(dims[i], 1);
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 24) / row_values);  // ~64 MB of float32
  for (int64_t r = first; r < end; r += block) read_rows(name, r, std::min(block, end - r));
}

void H5Reader::expect_shape(const std::string& name, const std::vector<int64_t>& want) const {
  TC_CHECK(has(name), path_.string(), ": dataset /", name, " is missing: expected shape ",
           shape_str(want));
  const auto got = shape(name);
  bool ok = got.size() == want.size();
  for (size_t i = 0; ok && i < want.size(); ++i) ok = want[i] < 0 || want[i] == got[i];
  TC_CHECK(ok, path_.string(), ": dataset /", name, " has shape ", shape_str(got), ": expected ",
           shape_str(want));
}

}  // namespace tc::io
