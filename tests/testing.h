// Helpers shared by the test binaries: temporary folders, fixture paths and
// running the real `tailedcore` executable.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tc::testing {

/// A fresh folder under the system temp dir, removed with its contents at scope end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path fixtures_dir();  // tests/fixtures
std::filesystem::path
reference_dir();  // reference/: the official manifests, split CSVs, layout, configs
std::filesystem::path weights_dir();  // weights/: the pretrained backbones launch/setup.sh converts
std::filesystem::path cli_path();     // the built tailedcore executable

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
/// Runs a shell command line and captures its output.
CommandResult run_command(const std::string& command_line);
/// Runs `tailedcore <args>`.
CommandResult run_cli(const std::string& args);

/// The e2e tests' small tree: `tailedcore synth --layout small --size 48
/// --seed 0` into `dest`, keeping only `classes`, each with at most
/// `train_images` training images (0: all of them). The synth's output when it
/// fails, else "".
std::string make_small_tree(const std::filesystem::path& dest,
                            const std::vector<std::string>& classes, size_t train_images = 0);

/// `to` as a fresh copy of the tree `from` (whatever was at `to` is removed); returns `to`.
std::filesystem::path fresh_copy(const std::filesystem::path& from,
                                 const std::filesystem::path& to);

/// The message of the tc::Error that `f` throws; "" when it throws none.
std::string error_of(const std::function<void()>& f);

}  // namespace tc::testing
