// One run at a time in a run folder: an exclusive flock on <dir>/run.lock,
// held for the life of the object (the kernel drops it when the process dies,
// kill -9 included). A second run on the folder waits for the first, then
// finds its stages cached. Temporary files of dead runs are removed once the
// lock is held.
#pragma once

#include <filesystem>

namespace tc::io {

class RunLock {
 public:
  /// Takes the lock, waiting (with one log line naming the holder's pid) when
  /// another process holds it.
  explicit RunLock(const std::filesystem::path& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

/// Removes temporary files ("<name>.tmp-<pid>@<host>", io::temporary_path)
/// left in `dir` by processes that are gone: with `locked` (the caller holds
/// the folder's RunLock) every one not of this process; else those of this
/// host whose pid is not alive, and those of other hosts not modified for
/// `min_age_s` seconds (a folder shared by concurrent runs, e.g. features/).
/// Returns how many were removed.
int remove_stale_temporaries(const std::filesystem::path& dir, bool locked, int min_age_s = 3600);

}  // namespace tc::io
