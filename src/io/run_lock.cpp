#include "tailedcore/io/run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/io/files.h"

namespace tc::io {
namespace fs = std::filesystem;

RunLock::RunLock(const fs::path& dir) {
  const fs::path path = dir / "run.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  TC_CHECK(fd_ >= 0, path.string(), ": cannot open the run lock (", std::strerror(errno), ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    const std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
    core::log_warn(dir.string(), " is in use by another run (pid ", holder,
                   "): waiting for it to finish, then resuming from its cached stages");
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd_);
      TC_FAIL(path.string(), ": cannot take the run lock (", std::strerror(e), ")");
    }
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

int remove_stale_temporaries(const fs::path& dir, bool locked, int min_age_s) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  const std::string self = std::to_string(::getpid()), here = core::host_name();
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto at = name.rfind(".tmp-");
    if (at == std::string::npos || !e.is_regular_file(ec)) continue;
    // "<pid>@<host>" (temporary_path), or a bare "<pid>" of this host.
    const std::string tag = name.substr(at + 5);
    const auto sep = tag.find('@');
    const std::string pid = tag.substr(0, sep),
                      host = sep == std::string::npos ? here : tag.substr(sep + 1);
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (pid == self && host == here) continue;
    if (!locked) {
      // A folder shared by concurrent runs: a writer on this host is gone when
      // its pid is; one on another host cannot be asked, so only old files go.
      const bool gone =
          host == here ? !(::kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno == EPERM)
                       : fs::file_time_type::clock::now() - fs::last_write_time(e.path(), ec) >
                             std::chrono::seconds(min_age_s);
      if (!gone || ec) continue;
    }
    if (fs::remove(e.path(), ec)) {
      ++removed;
      core::log_info("removed ", e.path().string(),
                     ", a temporary file of a run that did not finish");
    }
  }
  return removed;
}

}  // namespace tc::io
