#include "tailedcore/pipeline/sweep.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/io/files.h"
#include "tailedcore/pipeline/run.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

struct Table {
  std::vector<std::string> metric_names;
  std::map<std::string, std::vector<double>> rows;  // class -> metric values
  std::vector<std::string> class_order;
};

Table read_metrics_csv(const fs::path& path) {
  const auto records = core::parse_csv(io::read_text(path), path.string());
  TC_CHECK(!records.empty(), path.string(), ": empty metrics file");
  const auto& header = records.front().cells;
  TC_CHECK(header.size() >= 2 && header[0] == "class", path.string(),
           ": header must start with 'class': got '", header[0], "'");
  Table t;
  t.metric_names.assign(header.begin() + 1, header.end());
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& cells = records[r].cells;
    TC_CHECK(cells.size() == header.size(), path.string(), ":", records[r].line, ": ", cells.size(),
             " cells: expected ", header.size());
    std::vector<double> v;
    for (size_t i = 1; i < cells.size(); ++i) v.push_back(std::strtod(cells[i].c_str(), nullptr));
    t.class_order.push_back(cells[0]);
    t.rows[cells[0]] = v;
  }
  return t;
}

struct MeanStd {
  double mean = 0, std = 0;  // sample standard deviation; 0 for one run
};

MeanStd mean_std(const std::vector<double>& xs) {
  MeanStd r;
  for (double x : xs) r.mean += x;
  r.mean /= xs.size();
  double var = 0;
  for (double x : xs) var += (x - r.mean) * (x - r.mean);
  r.std = xs.size() > 1 ? std::sqrt(var / (xs.size() - 1)) : 0.0;
  return r;
}

}  // namespace

std::vector<PlannedRun> plan_sweep(const SweepOptions& opts) {
  TC_CHECK(!opts.configs.empty(), "sweep: no config given (-c)");
  TC_CHECK(!opts.data_dirs.empty(), "sweep: no data folder given (--data)");
  TC_CHECK(!opts.seeds.empty(), "sweep: no seed given (--seeds)");
  std::vector<PlannedRun> plan;
  // One data set, one spelling ("v1/" and "./v1" are one data set, run once).
  std::vector<fs::path> data;
  for (const auto& d : opts.data_dirs) {
    const auto c = io::canonical_path(d);
    if (std::find(data.begin(), data.end(), c) == data.end())
      data.push_back(c);
    else
      core::log_warn("sweep: --data ", d.string(), " is ", c.string(), " again: run once");
  }
  for (const auto& c : opts.configs)
    exp::config_name(c);  // each names a results folder: checked before any run
  for (const auto& c : opts.configs)
    for (const auto& d : data)
      for (int64_t s : opts.seeds) plan.push_back({c, d, s});
  return plan;
}

namespace {

// Folder names of the data sets under --out: the canonical folder's name,
// with a digest of its path when two different data sets share that name.
std::map<fs::path, std::string> dataset_names(const std::vector<fs::path>& dirs) {
  std::map<std::string, std::vector<fs::path>> by_name;
  for (const auto& d : dirs) {
    auto& v = by_name[d.filename().string()];
    if (std::find(v.begin(), v.end(), d) == v.end()) v.push_back(d);
  }
  std::map<fs::path, std::string> out;
  for (const auto& [name, paths] : by_name)
    for (const auto& p : paths)
      out[p] = paths.size() == 1 ? name : name + "-" + io::hash_text(p.string()).substr(0, 8);
  return out;
}

constexpr const char* kFailedMarker = "failed.txt";  // a failed run's error line

}  // namespace

std::string sweep_plan_text(const SweepOptions& opts, const std::vector<PlannedRun>& plan) {
  std::vector<fs::path> configs, data;
  for (const auto& r : plan) {
    if (std::find(configs.begin(), configs.end(), r.config) == configs.end())
      configs.push_back(r.config);
    if (std::find(data.begin(), data.end(), r.data_dir) == data.end()) data.push_back(r.data_dir);
  }
  std::ostringstream text;
  for (const auto& c : configs)
    text << "config: " << io::canonical_path(c).string() << " (content "
         << (fs::is_regular_file(c) ? io::hash_file(c) : "missing") << ")\n";
  for (const auto& d : data) text << "data: " << d.string() << "\n";
  text << "seeds:";
  for (int64_t s : opts.seeds) text << " " << s;
  text << "\n";
  for (const auto& o : opts.overrides) text << "set: " << o << "\n";
  return text.str();
}

SweepResult run_sweep(const SweepOptions& opts, dist::Comm& world) {
  TC_CHECK(opts.group_size >= 1 && world.size() % opts.group_size == 0, "--group-size ",
           opts.group_size, " must divide the number of ranks (", world.size(), ")");
  core::check_thread_count(opts.threads, "--threads");
  const auto plan = plan_sweep(opts);
  // Sweeps sharing one --out (and so its feature cache) each keep their own
  // summary, in a folder named by the digest of their plan.
  const std::string plan_text = sweep_plan_text(opts, plan);
  SweepResult result;
  result.dir = opts.out_root / "sweep" / io::hash_text(plan_text).substr(0, 12);
  std::vector<fs::path> dirs;
  for (const auto& r : plan) dirs.push_back(r.data_dir);
  const auto names = dataset_names(dirs);
  const int groups = world.size() / opts.group_size;
  const int group = world.rank() / opts.group_size;
  auto comm = world.split(group, world.rank());
  core::log_info("sweep: ", plan.size(), " runs over ", groups, " group(s) of ", opts.group_size,
                 " rank(s)");
  std::vector<SweepRunRecord> records;
  for (size_t i = 0; i < plan.size(); ++i) {
    RunOptions ro;
    ro.config_path = plan[i].config;
    ro.data_dir = plan[i].data_dir;
    ro.dataset_name = names.at(plan[i].data_dir);
    ro.overrides = opts.overrides;
    ro.overrides.push_back("seed=" + std::to_string(plan[i].seed));
    ro.out_root = opts.out_root;
    ro.run_id = plan[i].run_id();
    ro.threads = opts.threads;
    ro.pictures_per_class = 0;
    const std::string config = exp::config_name(plan[i].config);
    const fs::path run_dir = opts.out_root / ro.dataset_name / config / ro.run_id;
    if (static_cast<int>(i % groups) == group) {
      core::log_info("sweep run ", i + 1, "/", plan.size(), ": ", config, " on ",
                     plan[i].data_dir.string(), " seed ", plan[i].seed);
      try {
        run_experiment(ro, *comm);
        if (comm->rank() == 0) fs::remove(run_dir / kFailedMarker);
      } catch (const std::exception& e) {
        // A failure on some ranks of a group only would leave the others in a
        // collective: a multi-rank group ends the job as any run does.
        if (comm->size() > 1) throw;
        core::log_error("sweep run ", i + 1, "/", plan.size(), " failed: ", e.what());
        io::write_text_atomic(run_dir / kFailedMarker, std::string(e.what()) + "\n");
        // A run that failed before opening its log (e.g. a config error) gets one.
        if (!fs::exists(run_dir / "run.log"))
          std::ofstream(run_dir / "run.log") << "[ERROR] run failed: " << e.what() << "\n";
      }
    }
    records.push_back({config, plan[i].data_dir.string(), plan[i].seed, run_dir});
  }
  world.barrier();
  if (world.rank() == 0) result.failed = write_sweep_summary(result.dir, records, plan_text);
  result.failed =
      world.allreduce(torch::tensor({result.failed}), dist::ReduceOp::kMax).item<int64_t>();
  return result;
}

int64_t write_sweep_summary(const fs::path& dir, const std::vector<SweepRunRecord>& runs,
                            const std::string& plan_text) {
  std::map<std::string, std::vector<Table>> by_config;
  std::vector<std::string> config_order;
  std::vector<std::pair<const SweepRunRecord*, std::string>> failures;  // run, error line
  for (const auto& r : runs) {
    std::string error;
    if (fs::exists(r.run_dir / kFailedMarker)) {
      error = io::read_text(r.run_dir / kFailedMarker);
      while (!error.empty() && error.back() == '\n') error.pop_back();
    } else if (!fs::exists(r.run_dir / "metrics.csv")) {
      error = (r.run_dir / "metrics.csv").string() + " is missing";
    } else {
      try {
        auto table = read_metrics_csv(r.run_dir / "metrics.csv");
        if (!by_config.count(r.config)) config_order.push_back(r.config);
        by_config[r.config].push_back(std::move(table));
        continue;
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    failures.emplace_back(&r, error);
  }
  std::ostringstream csv, md;
  csv << "config,class,metric,mean,std,runs\n";
  md << "# Sweep " << dir.filename().string() << ": summary (mean ± std over runs)\n\n"
     << "The plan of this sweep (its digest names this folder; another plan over the same --out "
        "writes"
     << " its own summary beside it):\n\n```\n"
     << plan_text << "```\n";
  for (const auto& config : config_order) {
    const auto& tables = by_config[config];
    const auto& first = tables.front();
    md << "\n## " << config << " (" << tables.size() << " runs)\n\n| class |";
    for (const auto& m : first.metric_names) md << " " << m << " |";
    md << "\n|---|";
    for (size_t i = 0; i < first.metric_names.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& cls : first.class_order) {
      md << "| " << cls << " |";
      for (size_t m = 0; m < first.metric_names.size(); ++m) {
        std::vector<double> xs;
        for (const auto& t : tables) {
          const auto it = t.rows.find(cls);
          TC_CHECK(it != t.rows.end(), "sweep: class ", cls, " is missing from a run of ", config);
          xs.push_back(it->second[m]);
        }
        const auto ms = mean_std(xs);
        md << " " << std::fixed << std::setprecision(2) << ms.mean << " ± " << ms.std << " |";
        csv << core::csv_field(config) << "," << core::csv_field(cls) << ","
            << first.metric_names[m] << "," << ms.mean << "," << ms.std << "," << xs.size() << "\n";
      }
      md << "\n";
    }
  }
  if (!failures.empty()) {
    md << "\n## Failed runs (" << failures.size() << " of " << runs.size() << ")\n\n"
       << "| config | data | seed | error | log |\n|---|---|---|---|---|\n";
    for (const auto& [r, error] : failures) {
      std::string cell = error;
      for (auto& c : cell)
        if (c == '|' || c == '\n') c = ' ';
      md << "| " << r->config << " | " << r->data << " | " << r->seed << " | " << cell << " | "
         << (r->run_dir / "run.log").string() << " |\n";
    }
  }
  io::write_text_atomic(dir / "summary.csv", csv.str());
  io::write_text_atomic(dir / "summary.md", md.str());
  core::log_info("sweep summary: ", (dir / "summary.md").string());
  if (!failures.empty())
    core::log_error("sweep: ", failures.size(), " of ", runs.size(), " runs failed (listed in ",
                    (dir / "summary.md").string(), ")");
  return static_cast<int64_t>(failures.size());
}

}  // namespace tc::pipeline
