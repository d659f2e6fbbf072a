#include "tailedcore/io/files.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/hash.h"
#include "tailedcore/core/runtime.h"

namespace tc::io {
namespace fs = std::filesystem;

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  TC_CHECK(fs::is_directory(dir), "output folder ", dir.string(), " cannot be created (",
           ec ? ec.message() : std::string("a file of that name exists"), ")");
  TC_CHECK(access(dir.c_str(), W_OK) == 0, "output folder ", dir.string(), " is not writable");
}

fs::path temporary_path(const fs::path& path) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(getpid()) + "@" + core::host_name();
  return tmp;
}

void check_output_file(const fs::path& path) {
  TC_CHECK(!path.empty(), "--out is empty: expected a file name");
  TC_CHECK(!fs::is_directory(path), path.string(), ": is a folder: expected a file name");
  ensure_writable_dir(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

fs::path canonical_path(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
  if (ec) r = fs::absolute(p).lexically_normal();
  if (!r.has_filename() && r.has_parent_path() && r != r.root_path()) r = r.parent_path();
  return r;
}

namespace {

// True when `inner` is `outer` or lies below it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

}  // namespace

void check_dest_apart_from_source(const fs::path& source, const fs::path& dest) {
  const fs::path s = canonical_path(source), d = canonical_path(dest);
  TC_CHECK(!within(d, s), "--dest ", dest.string(), " is ",
           d == s ? "the source" : "inside the source", " ", source.string(),
           ": expected a folder outside it (--force would replace the source)");
  TC_CHECK(!within(s, d), "--dest ", dest.string(), " holds the source ", source.string(),
           ": expected a folder outside it (--force would delete the source)");
}

void write_text_atomic(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) ensure_writable_dir(path.parent_path());
  const fs::path tmp = temporary_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TC_CHECK(out.good(), path.string(), ": cannot open for writing");
    out << content;
    out.flush();
    if (!out.good()) {
      out.close();
      fs::remove(tmp);
      TC_FAIL(path.string(), ": write failed (disk full?)");
    }
  }
  move_into_place(tmp, path);
}

void move_into_place(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    const char* kind = fs::is_directory(tmp, ignored) ? "folder" : "file";
    fs::remove_all(tmp, ignored);
    TC_FAIL(path.string(), ": cannot move the finished ", kind, " into place (", ec.message(), ")");
  }
}

void build_folder_atomic(const fs::path& dest,
                         const std::function<void(const fs::path& staging)>& fill) {
  const fs::path staging = temporary_path(dest);
  std::error_code ec;
  fs::remove_all(staging, ec);
  try {
    ensure_writable_dir(staging);
    fill(staging);
    if (fs::exists(dest)) fs::remove_all(dest);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  move_into_place(staging, dest);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  TC_CHECK(in.good(), path.string(), ": cannot open for reading (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::string hex16(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string hash_text(const std::string& text) { return hex16(core::fnv1a(text)); }

std::string hash_file(const fs::path& path) {
  // Four FNV-style lanes over 8-byte words (a byte-wise FNV-1a is too slow
  // for the 276 MB of WideResNet weights each run digests), the bytes after
  // the last whole 32-byte group and the length folded in at the end with
  // FNV-1a.
  constexpr uint64_t kPrime = 0x100000001b3ull;
  std::ifstream in(path, std::ios::binary);
  TC_CHECK(in.good(), path.string(), ": cannot open for reading (missing or unreadable)");
  std::vector<char> buf(1 << 20);  // a multiple of 32: only the last block has a remainder
  uint64_t lane[4] = {core::kFnv1aOffsetBasis, core::kFnv1aOffsetBasis ^ 1,
                      core::kFnv1aOffsetBasis ^ 2, core::kFnv1aOffsetBasis ^ 3};
  uint64_t length = 0, h = core::kFnv1aOffsetBasis;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    length += n;
    const size_t whole = n / 32 * 32;
    for (size_t i = 0; i < whole; i += 32) {
      for (int l = 0; l < 4; ++l) {
        uint64_t w;
        std::memcpy(&w, buf.data() + i + 8 * l, 8);
        lane[l] = (lane[l] ^ w) * kPrime;
      }
    }
    h = core::fnv1a({buf.data() + whole, n - whole}, h);
  }
  TC_CHECK(in.eof(), path.string(), ": read failed");
  for (uint64_t v : lane) h = core::fnv1a({reinterpret_cast<const char*>(&v), 8}, h);
  return hex16(core::fnv1a({reinterpret_cast<const char*>(&length), 8}, h));
}

}  // namespace tc::io
