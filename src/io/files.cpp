#include "tailedcore/io/files.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tailedcore/core/check.h"

namespace tc::io {
namespace fs = std::filesystem;

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  TC_CHECK(fs::is_directory(dir), "output folder ", dir.string(), " cannot be created (",
           ec ? ec.message() : std::string("a file of that name exists"), ")");
  TC_CHECK(access(dir.c_str(), W_OK) == 0, "output folder ", dir.string(), " is not writable");
}

void write_text_atomic(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) ensure_writable_dir(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(getpid());
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
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    TC_FAIL(path.string(), ": cannot move the finished file into place (", ec.message(), ")");
  }
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  TC_CHECK(in.good(), path.string(), ": cannot open for reading (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path create_run_dir(const fs::path& root, const std::string& dataset, const std::string& config,
                        const std::string& run_id) {
  const fs::path dir = root / dataset / config / run_id;
  ensure_writable_dir(dir);
  return dir;
}

std::string hash_text(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace tc::io
