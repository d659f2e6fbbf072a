#include "failsafe_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace tc::io {

namespace {

// What the writer asks about a file by name: the first failed write's errno,
// and whether the file is closing (failures then go unreported).
struct Record {
  int error = 0;
  bool closing = false;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, Record>& registry() {
  static std::map<std::string, Record> r;
  return r;
}

// HDF5 reads only the public H5FD_t at the front (standard layout).
struct File {
  H5FD_t pub;
  int fd;
  haddr_t eoa;
  haddr_t eof;
  dev_t device;
  ino_t inode;
  std::string* name;
};

constexpr haddr_t kMaxAddr = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

void push_error(hid_t minor, const std::string& message) {
  H5Epush2(H5E_DEFAULT, __FILE__, "failsafe_driver", __LINE__, H5E_ERR_CLS, H5E_IO, minor, "%s",
           message.c_str());
}

const char* errno_name(int e) {
  switch (e) {
    case ENOSPC:
      return "ENOSPC";
    case EDQUOT:
      return "EDQUOT";
    case EFBIG:
      return "EFBIG";
    case EIO:
      return "EIO";
    case EROFS:
      return "EROFS";
    default:
      return nullptr;
  }
}

std::string describe(int e) {
  const char* n = errno_name(e);
  return std::string(std::strerror(e)) + (n ? std::string(" (") + n + ")" : std::string());
}

// A failed write or truncate: the first is reported unless the file is
// closing; later ones are dropped (the file is garbage, and will be removed).
herr_t failed(File* f, int e, const char* what) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  Record& r = registry()[*f->name];
  const bool first = r.error == 0;
  if (first) r.error = e;
  if (!first || r.closing) return 0;
  push_error(H5E_WRITEERROR, std::string(what) + " failed: " + describe(e));
  return -1;
}

bool dropping(File* f) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const auto it = registry().find(*f->name);
  return it != registry().end() && it->second.error != 0;
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t, haddr_t maxaddr) {
  if (maxaddr == 0 || maxaddr > kMaxAddr) {
    push_error(H5E_CANTOPENFILE, "bad maximum address");
    return nullptr;
  }
  int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o |= O_EXCL;
  const int fd = ::open(name, o | O_CLOEXEC, 0666);
  if (fd < 0) {
    push_error(H5E_CANTOPENFILE,
               std::string("unable to open file ") + name + ": " + describe(errno));
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    push_error(H5E_CANTOPENFILE,
               std::string("unable to fstat file ") + name + ": " + describe(errno));
    ::close(fd);
    return nullptr;
  }
  auto* f = new File{};
  f->fd = fd;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->device = st.st_dev;
  f->inode = st.st_ino;
  f->name = new std::string(name);
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry()[name] = Record{};
  }
  return &f->pub;
}

herr_t close_file(H5FD_t* file) {
  auto* f = reinterpret_cast<File*>(file);
  // A failed close is how NFS reports a failed write: HDF5 is done with the
  // file either way, so it is only recorded (write_failure() tells the writer).
  if (::close(f->fd) != 0) {
    const int e = errno;
    std::lock_guard<std::mutex> lock(registry_mutex());
    Record& r = registry()[*f->name];
    if (r.error == 0) r.error = e;
  }
  delete f->name;
  delete f;
  return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  const auto* x = reinterpret_cast<const File*>(a);
  const auto* y = reinterpret_cast<const File*>(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t*, unsigned long* flags) {
  if (flags)
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE |
             H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  return 0;
}

haddr_t get_eoa(const H5FD_t* file, H5FD_mem_t) { return reinterpret_cast<const File*>(file)->eoa; }
herr_t set_eoa(H5FD_t* file, H5FD_mem_t, haddr_t addr) {
  reinterpret_cast<File*>(file)->eoa = addr;
  return 0;
}
haddr_t get_eof(const H5FD_t* file, H5FD_mem_t) { return reinterpret_cast<const File*>(file)->eof; }

herr_t get_handle(H5FD_t* file, hid_t, void** handle) {
  *handle = &reinterpret_cast<File*>(file)->fd;
  return 0;
}

herr_t read_file(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* buf) {
  auto* f = reinterpret_cast<File*>(file);
  auto* p = static_cast<unsigned char*>(buf);
  while (size > 0) {
    const ssize_t n = pread(f->fd, p, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      push_error(H5E_READERROR, "file read failed: " + describe(errno));
      return -1;
    }
    if (n == 0) {  // past the end of the file: zeros, as sec2 does
      std::memset(p, 0, size);
      break;
    }
    p += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  return 0;
}

herr_t write_file(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void* buf) {
  auto* f = reinterpret_cast<File*>(file);
  if (dropping(f)) return 0;
  const auto* p = static_cast<const unsigned char*>(buf);
  const haddr_t end = addr + size;
  while (size > 0) {
    const ssize_t n = pwrite(f->fd, p, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed(f, n < 0 ? errno : ENOSPC, "file write");  // 0 bytes: no room
    p += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  if (end > f->eof) f->eof = end;
  return 0;
}

herr_t truncate_file(H5FD_t* file, hid_t, hbool_t) {
  auto* f = reinterpret_cast<File*>(file);
  if (f->eoa == f->eof) return 0;
  if (dropping(f)) return 0;
  if (ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0) return failed(f, errno, "file truncate");
  f->eof = f->eoa;
  return 0;
}

H5FD_class_t make_class() {
  H5FD_class_t c;
  std::memset(&c, 0, sizeof c);
  c.name = "tailedcore_failsafe";
  c.maxaddr = kMaxAddr;
  c.fc_degree = H5F_CLOSE_WEAK;
  c.open = open_file;
  c.close = close_file;
  c.cmp = compare;
  c.query = query;
  c.get_eoa = get_eoa;
  c.set_eoa = set_eoa;
  c.get_eof = get_eof;
  c.get_handle = get_handle;
  c.read = read_file;
  c.write = write_file;
  c.truncate = truncate_file;
  const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
  std::memcpy(c.fl_map, map, sizeof map);
  return c;
}

}  // namespace

hid_t failsafe_driver() {
  static const H5FD_class_t cls = make_class();
  static const hid_t id = H5FDregister(&cls);
  return id;
}

std::string write_failure(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const auto it = registry().find(name);
  return it == registry().end() || it->second.error == 0 ? std::string()
                                                         : describe(it->second.error);
}

void begin_close(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const auto it = registry().find(name);
  if (it != registry().end()) it->second.closing = true;
}

void forget_file(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(name);
}

}  // namespace tc::io
