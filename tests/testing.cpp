#include "testing.h"

#include "tailedcore/core/check.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>

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

CommandResult run_cli(const std::string& args) { return run_command(cli_path().string() + " " + args); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const tc::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tc::testing
