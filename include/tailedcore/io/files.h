// Files and folders of a run: atomic text writes, run directories, hashes.
#pragma once

#include <filesystem>
#include <string>

namespace tc::io {

/// Writes `content` to "<path>.tmp-<pid>" and renames it into place.
void write_text_atomic(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

/// Creates `dir` (and parents) and checks it is writable; the error names the folder.
void ensure_writable_dir(const std::filesystem::path& dir);

/// results/<dataset>/<config>/<run_id>/, created and checked writable.
std::filesystem::path create_run_dir(const std::filesystem::path& root, const std::string& dataset,
                                     const std::string& config, const std::string& run_id);

/// 16 hex digits (64-bit FNV-1a) of `text`: the key of cached stage artifacts.
std::string hash_text(const std::string& text);

}  // namespace tc::io
