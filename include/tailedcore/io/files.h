// Files and folders: atomic writes (a temporary name renamed into place),
// output checks, canonical paths, content hashes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace tc::io {

/// "<path>.tmp-<pid>@<host>": where a file is written before its rename, named
/// so that a later run can tell whether its writer is gone (run_lock.h).
std::filesystem::path temporary_path(const std::filesystem::path& path);

/// Renames the finished temporary file or folder `tmp` to `path`; on failure
/// removes `tmp` and fails naming `path`.
void move_into_place(const std::filesystem::path& tmp, const std::filesystem::path& path);

/// Writes `content` to temporary_path(path) and renames it into place.
void write_text_atomic(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

/// Builds a folder at temporary_path(dest) with fill(staging), then puts it at
/// `dest`, replacing an existing `dest` (callers refuse one unless --force).
/// On any error the staging folder is removed and `dest` is left as it was:
/// no half-built tree under the final name.
void build_folder_atomic(const std::filesystem::path& dest,
                         const std::function<void(const std::filesystem::path& staging)>& fill);

/// Creates `dir` (and parents) and checks it is writable; the error names the folder.
void ensure_writable_dir(const std::filesystem::path& dir);

/// Before a command computes anything: `path` can be written (its folder is
/// created and writable, and it is not itself a folder).
void check_output_file(const std::filesystem::path& path);

/// `p` absolute, with symlinks, "." and ".." resolved (as far as it exists)
/// and no trailing separator: one folder, one spelling.
std::filesystem::path canonical_path(const std::filesystem::path& p);

/// A data set command's destination (nlt make/apply, visa convert) must be
/// neither the source, inside it, nor above it, whatever the spelling
/// (symlinks, "..", a trailing '/'): fails with one line before any work.
void check_dest_apart_from_source(const std::filesystem::path& source,
                                  const std::filesystem::path& dest);

/// 16 hex digits of core::fnv1a(text): the key of cached stage artifacts.
std::string hash_text(const std::string& text);
/// 16 hex digits of a file's bytes (a word-wise FNV variant, read in 1 MiB
/// blocks): weights and input digests.
std::string hash_file(const std::filesystem::path& path);

}  // namespace tc::io
