// tailedcore <subcommand> [options]: the single entry point of the framework.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <string>

#include "commands.h"
#include "tailedcore/core/check.h"

namespace {

struct Command {
  std::function<int(const tc::cli::Args&)> run;
  const char* help;
};

const std::map<std::string, Command>& commands() {
  using namespace tc::cli;
  static const std::map<std::string, Command> table = {
      {"version", {cmd_version, "print the version and the build's optional parts"}},
      {"run", {cmd_run, "run an experiment: every stage, cached and resumable"}},
      {"sweep", {cmd_sweep, "many runs (configs x data x seeds) over rank groups, mean +- std"}},
      {"synth", {cmd_synth, "write a synthetic data set (mvtec | visa | small layout)"}},
      {"nlt", {cmd_nlt, "noisy long-tail variants: apply official manifests, or make new ones"}},
      {"visa", {cmd_visa, "convert VisA to the MVTec layout (masks binarised)"}},
      {"extract", {cmd_extract, "patch features and global embeddings to features.h5"}},
      {"tail", {cmd_tail, "class sizes and tail images (tail.h5)"}},
      {"lof", {cmd_lof, "patch-wise LOF noise scores (lof.h5)"}},
      {"coreset", {cmd_coreset, "greedy k-center memory bank (coreset.h5)"}},
      {"compare",
       {cmd_compare,
        "several runs side by side: AUROC table and charts, class sizes, anomaly maps"}},
  };
  return table;
}

void usage() {
  std::fprintf(stderr,
               "usage: tailedcore <subcommand> [options]   (tailedcore <subcommand> --help)\n\n");
  for (const auto& [name, cmd] : commands())
    std::fprintf(stderr, "  %-10s %s\n", name.c_str(), cmd.help);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  // `tailedcore --version` is `tailedcore version`, as most tools have it.
  const auto it = commands().find(std::strcmp(argv[1], "--version") ? argv[1] : "version");
  if (it == commands().end()) {
    std::fprintf(stderr, "tailedcore: unknown subcommand '%s'\n", argv[1]);
    usage();
    return 2;
  }
  try {
    return it->second.run(tc::cli::Args(argv + 2, argv + argc));
  } catch (const tc::Error& e) {
    std::fprintf(stderr, "tailedcore %s: error: %s\n", argv[1], e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tailedcore %s: error: %s\n", argv[1], e.what());
  }
  return 1;
}
