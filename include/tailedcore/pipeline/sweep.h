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

struct PlannedRun {  // data_dir canonical (io::canonical_path)
  std::filesystem::path config;
  std::filesystem::path data_dir;
  int64_t seed = 0;
  std::string run_id() const { return "seed" + std::to_string(seed); }
};

/// Every (config, data, seed) in that nesting order.
std::vector<PlannedRun> plan_sweep(const SweepOptions& opts);

/// The sweep's plan as text: every config (canonical path and content
/// digest), data folder (canonical), the seeds and the --set overrides. Its
/// digest names the sweep's summary folder; summary.md quotes it.
std::string sweep_plan_text(const SweepOptions& opts, const std::vector<PlannedRun>& plan);

struct SweepResult {
  std::filesystem::path dir;  // <out>/sweep/<12 hex digits of the plan text's digest>
  int64_t failed = 0;         // runs without a result
};

/// Runs the sweep. A run that fails (with one-rank groups) is recorded in its
/// run folder (failed.txt: the error line) and the others go on; the summary
/// lists it. With groups of several ranks a failure ends the job, as a run's.
SweepResult run_sweep(const SweepOptions& opts, dist::Comm& world);

/// One planned run: what it was, and its folder.
struct SweepRunRecord {
  std::string config;
  std::string data;
  int64_t seed = 0;
  std::filesystem::path run_dir;
};

/// Reads the metrics.csv of finished runs and writes <dir>/summary.csv and
/// summary.md: the plan (`plan_text`), then per config, per class and
/// overall, mean +- std (sample std) of every metric over the runs, then the
/// failed runs (error line, log path). Returns how many runs failed.
int64_t write_sweep_summary(const std::filesystem::path& dir,
                            const std::vector<SweepRunRecord>& runs, const std::string& plan_text);

}  // namespace tc::pipeline
