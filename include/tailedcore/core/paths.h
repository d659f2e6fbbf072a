// Names and paths that come from a user or a file and end up under a folder
// we write or read: one rule for every tool, so none can be made to reach
// outside its root.
#pragma once

#include <filesystem>
#include <string>

namespace tc::core {

/// `name` is one folder level (a run id, a data set or config name, a VisA
/// object): not empty, not "." or "..", no '/' or '\\'. Fails with one line
/// naming `what` and the name.
void check_folder_name(const std::string& name, const std::string& what);

/// `rel`, a path read from a file (a manifest line, a CSV cell) that is to be
/// joined to a root folder: relative, and every part a folder name (no empty
/// part, no "." or ".."), so root / rel is lexically inside root whatever
/// root is. Symlinks inside the root are followed: the tree's owner put them
/// there. Fails with one line naming `where` (file:line) and the path.
std::filesystem::path checked_relative_path(const std::string& rel, const std::string& where);

}  // namespace tc::core
