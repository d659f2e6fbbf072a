// tailedcore sweep -c CONFIG... --data DIR... [--seeds 0,1,2] [--group-size G]
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/dist/world.h"
#include "tailedcore/pipeline/sweep.h"

namespace po = boost::program_options;

namespace tc::cli {
namespace {

std::vector<int64_t> parse_seeds(const std::string& text) {
  std::vector<int64_t> seeds;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto dash = item.find('-', 1);
    try {
      if (dash == std::string::npos) {
        seeds.push_back(std::stoll(item));
      } else {
        for (int64_t s = std::stoll(item.substr(0, dash)); s <= std::stoll(item.substr(dash + 1));
             ++s)
          seeds.push_back(s);
      }
    } catch (const std::exception&) {
      TC_FAIL("--seeds '", text, "': '", item, "' is not a seed: expected e.g. 0,1,2 or 0-4");
    }
  }
  TC_CHECK(!seeds.empty(), "--seeds '", text, "' names no seed");
  return seeds;
}

}  // namespace

int cmd_sweep(const Args& args) {
  pipeline::SweepOptions opts;
  std::vector<std::string> configs, data;
  std::string seeds = "0", out = "results";
  po::options_description desc(
      "tailedcore sweep: every (config, data, seed) run over groups of ranks, then mean +- std");
  desc.add_options()("help,h", "this help")(
      "config,c", po::value(&configs)->required()->multitoken(), "YAML config(s)")(
      "data", po::value(&data)->required()->multitoken(),
      "data folder(s) (e.g. the five pareto variants)")(
      "seeds", po::value(&seeds)->default_value("0"), "seeds: 0,1,2 or 0-4")(
      "group-size", po::value(&opts.group_size)->default_value(1), "ranks per run")(
      "set", po::value(&opts.overrides)->composing(), "override a config key for every run")(
      "out", po::value(&out)->default_value("results"), "results root")(
      "threads", threads_value(&opts.threads), "threads per rank (0: cores / local ranks)");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  opts.configs.assign(configs.begin(), configs.end());
  opts.data_dirs.assign(data.begin(), data.end());
  opts.seeds = parse_seeds(seeds);
  opts.out_root = out;
  auto world = dist::init_world(nullptr, nullptr);
  return dist::run_guarded(*world, [&] {
    const auto result = pipeline::run_sweep(opts, *world);
    if (world->rank() == 0)
      std::printf("summary: %s\n", (result.dir / "summary.md").string().c_str());
    return result.failed > 0 ? 1 : 0;  // every run attempted; failures listed in the summary
  });
}

}  // namespace tc::cli
