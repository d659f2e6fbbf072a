// `tailedcore sweep`: many runs (data variant x seed x config) over groups of
// ranks, then one summary table of mean +- std over the runs of each config.
//
// Contract: collective over the world communicator. The world is split into
// groups of `group_size` ranks (Comm::split); group g runs the runs whose
// position in the plan is g modulo the number of groups; world rank 0 writes
// the summary from the runs' metrics.csv files (a shared file system).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::dist {
class Comm;
}

namespace tc::pipeline {

struct SweepOptions {
  std::vector<std::filesystem::path> configs;
  std::vector<std::filesystem::path> data_dirs;
  std::vector<int64_t> seeds{0};
  std::vector<std::string> overrides;
  std::filesystem::path out_root = "results";
  int group_size = 1;
  int threads = 0;
};

struct PlannedRun {
  std::filesystem::path config;
  std::filesystem::path data_dir;
  int64_t seed = 0;
  std::string run_id() const { return "seed" + std::to_string(seed); }
};

/// Every (config, data, seed) in that nesting order.
std::vector<PlannedRun> plan_sweep(const SweepOptions& opts);

/// Runs the sweep; returns the summary folder (<out>/sweep).
std::filesystem::path run_sweep(const SweepOptions& opts, dist::Comm& world);

/// Reads the metrics.csv of finished runs and writes <dir>/summary.csv and
/// summary.md: per config, per class and overall, mean +- std (sample std) of
/// every metric over the runs.
void write_sweep_summary(const std::filesystem::path& dir,
                         const std::vector<std::pair<std::string, std::filesystem::path>>& runs);

}  // namespace tc::pipeline
