#include "testing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "tailedcore/core/check.h"

namespace tc::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() /
                 ("tailedcore-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path fixtures_dir() { return TC_FIXTURES_DIR; }
fs::path reference_dir() { return TC_REFERENCE_DIR; }
fs::path weights_dir() { return TC_WEIGHTS_DIR; }
fs::path cli_path() { return TC_CLI_PATH; }

CommandResult run_command(const std::string& command_line) {
  const std::string cmd = command_line + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command_line);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

CommandResult run_cli(const std::string& args) {
  return run_command(cli_path().string() + " " + args);
}

fs::path fresh_copy(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
  return to;
}

std::string make_small_tree(const fs::path& dest, const std::vector<std::string>& classes,
                            size_t train_images) {
  const auto r = run_cli("synth --layout small --size 48 --seed 0 --dest " + dest.string());
  if (r.exit_code != 0) return r.output.empty() ? "synth failed" : r.output;
  for (const auto& e : fs::directory_iterator(dest)) {
    const auto name = e.path().filename().string();
    if (e.is_directory() && std::find(classes.begin(), classes.end(), name) == classes.end())
      fs::remove_all(e.path());
  }
  if (train_images == 0) return "";
  for (const auto& cls : classes) {
    std::vector<fs::path> train;
    for (const auto& e : fs::directory_iterator(dest / cls / "train" / "good"))
      train.push_back(e.path());
    std::sort(train.begin(), train.end());
    for (size_t i = train_images; i < train.size(); ++i) fs::remove(train[i]);
  }
  return "";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const tc::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tc::testing
