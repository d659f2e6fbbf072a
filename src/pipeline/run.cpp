#include "tailedcore/pipeline/run.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/core/finite.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/core/usage.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/device_startup.h"
#include "tailedcore/dist/same_plan.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/io/run_lock.h"
#include "tailedcore/models/method.h"
#include "tailedcore/pipeline/cache_keys.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/inputs.h"
#include "tailedcore/pipeline/report.h"
#include "tailedcore/pipeline/stage.h"
#include "tailedcore/pipeline/stage_cache.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

// Scores enter the metrics here: a NaN would end no tie of a ranking.
void check_finite_predictions(const models::ClassPredictions& p, const fs::path& file) {
  const auto name = [&](int64_t i) {
    return "image " +
           (i < static_cast<int64_t>(p.image_paths.size()) ? p.image_paths[i] : std::to_string(i));
  };
  core::check_finite_rows(p.image_scores, 1, name,
                          file.string() + " /" + p.class_name + "/image_scores");
  core::check_finite_rows(p.maps, 1, name, file.string() + " /" + p.class_name + "/anomaly_maps");
}

// The input listing with each line's last field (the mtime) left out: copies
// of one data set on other nodes have other mtimes and the same files.
std::string without_mtimes(const std::string& listing) {
  std::string out;
  size_t start = 0;
  while (start < listing.size()) {
    size_t end = listing.find('\n', start);
    if (end == std::string::npos) end = listing.size();
    const std::string line = listing.substr(start, end - start);
    out += line.substr(0, std::min(line.size(), line.rfind(' '))) + "\n";
    start = end + 1;
  }
  return out;
}

// Before any work: the options that need no data.
void check_options(const RunOptions& opts) {
  // Each becomes one folder level under --out.
  if (!opts.run_id.empty()) core::check_folder_name(opts.run_id, "--run-id");
  if (!opts.dataset_name.empty()) core::check_folder_name(opts.dataset_name, "--dataset-name");
  if (!opts.stop_after.empty()) stage(opts.stop_after, "--stop-after");
}

// The input listing of a cache folder against the one kept there by the last
// run: the log says which inputs changed (the cache key already covers them).
void record_inputs(const fs::path& dir, const InputListing& inputs) {
  const fs::path file = dir / "inputs.txt";
  if (fs::exists(file)) {
    const auto change = describe_input_changes(io::read_text(file), inputs.text);
    if (!change.empty())
      core::log_warn(dir.string(), ": ", change,
                     " since its last run: the stages that read them are recomputed");
  }
  io::write_text_atomic(file, inputs.text);
}

RunSummary run_in_folder(const RunOptions& opts, const exp::Plan& plan,
                         const models::Method& method, const fs::path& data_dir, int threads,
                         RunSummary& summary, dist::Comm& comm);

}  // namespace

RunSummary run_experiment(const RunOptions& opts, dist::Comm& world) {
  check_options(opts);
  const int threads = core::set_thread_count(opts.threads);
  const exp::Config cfg = exp::load_config(opts.config_path, opts.overrides);
  const exp::Plan plan = exp::make_plan(cfg);
  // Before the first collective: every rank runs the same plan (or all stop, naming the
  // difference).
  dist::check_same_plan(world,
                        exp::to_key_lines(cfg) +  // every key, those outside the cache keys too
                            "data: " + opts.data_dir.lexically_normal().string() +
                            "\nout: " + opts.out_root.lexically_normal().string() +
                            "\nrun_id: " + opts.run_id + "\ndataset_name: " + opts.dataset_name +
                            "\nstop_after: " + opts.stop_after + "\n",
                        opts.config_path.string());
  // model.device: the rank's device; NCCL between the ranks when they are on GPUs.
  const auto device_comm = dist::start_on_device(plan.device, world);
  dist::Comm& comm = device_comm ? *device_comm : world;
  const auto method =
      models::make_method(plan.method, opts.config_path.string() + ": model.coreset_model_name");
  core::seed_everything(static_cast<uint64_t>(cfg.seed));
  TC_CHECK(fs::is_directory(opts.data_dir), opts.data_dir.string(), ": data folder does not exist");

  // One data set, one spelling: "data/", "./data" and a symlink to it are the same run.
  const fs::path data_dir = io::canonical_path(opts.data_dir);
  const std::string dataset =
      opts.dataset_name.empty() ? data_dir.filename().string() : opts.dataset_name;
  const std::string config_yaml = exp::to_yaml(cfg);
  const std::string run_id = opts.run_id.empty()
                                 ? cache_keys(plan, plan.backbones.front(), data_dir, "").run_id
                                 : opts.run_id;
  RunSummary summary;
  summary.model = method->name();
  summary.run_dir = opts.out_root / dataset / cfg.name / run_id;
  std::unique_ptr<io::RunLock> lock;
  if (comm.rank() == 0) {
    io::ensure_writable_dir(summary.run_dir);
    lock = std::make_unique<io::RunLock>(summary.run_dir);  // before run.log: no interleaved logs
    io::remove_stale_temporaries(summary.run_dir, /*locked=*/true);
    io::write_text_atomic(summary.run_dir / "config.yaml", config_yaml);
    core::set_log_file((summary.run_dir / "run.log").string());
  }
  try {
    return run_in_folder(opts, plan, *method, data_dir, threads, summary, comm);
  } catch (const std::exception& e) {
    // main() prints the error; the log keeps it too, as its last line. Only
    // rank 0 holds run.log open, and a failing rank aborts the job before
    // rank 0 could write its line: another rank appends its own.
    core::log_to_file(core::LogLevel::kError, std::string("run failed: ") + e.what());
    if (comm.rank() == 0)
      core::set_log_file("");
    else
      std::ofstream(summary.run_dir / "run.log", std::ios::app)
          << "[tailedcore r" << comm.rank() << "/" << comm.size()
          << " ERROR] run failed: " << e.what() << "\n";
    throw;
  }
}

namespace {

RunSummary run_in_folder(const RunOptions& opts, const exp::Plan& plan,
                         const models::Method& method, const fs::path& data_dir, int threads,
                         RunSummary& summary, dist::Comm& comm) {
  comm.barrier();
  // Everything checkable about the inputs, before the first stage (and in run.log).
  const auto catalog = data::Catalog::scan(opts.data_dir);
  const auto train = catalog.train_pool();
  TC_CHECK(!train.empty(), opts.data_dir.string(), ": the training set is empty");
  // Test folders and mask sizes; at native size (no resize, no crop), one image size.
  data::check_run_inputs(
      catalog, plan.transform.resize == data::kFullSize && plan.transform.crop == data::kFullSize);
  core::log_info("run ", summary.run_dir.string(), ": ", method.name(), " on ", train.size(),
                 " training images, ", catalog.classes().size(), " classes, ", comm.size(),
                 " rank(s) x ", threads, " thread(s), rank 0 on ",
                 dist::describe_device(plan.device));
  // The cache keys cover every input file (size, mtime) and the weights'
  // digest, so a changed input is recomputed.
  const auto inputs = list_inputs(catalog, plan.config.model.backbone_weights);
  // The same files on every rank (node-local copies of the data can differ).
  dist::check_same_plan(comm, without_mtimes(inputs.text),
                        opts.data_dir.string() + " (the input files)");
  if (comm.rank() == 0) record_inputs(summary.run_dir, inputs);
  const fs::path dataset_dir = summary.run_dir.parent_path().parent_path();  // <out>/<dataset>

  // One bank per backbone; per-class scores are min-max normalised and averaged (SPEC 5.5).
  const bool several = plan.backbones.size() > 1;
  std::vector<models::ClassPredictions> combined;
  for (const auto& backbone : plan.backbones) {
    const auto keys = cache_keys(plan, backbone, data_dir, inputs.hash);
    const fs::path dir = several ? summary.run_dir / backbone : summary.run_dir;
    if (comm.rank() == 0) io::ensure_writable_dir(dir);
    if (comm.rank() == 0 && several) io::remove_stale_temporaries(dir, /*locked=*/true);
    comm.barrier();
    StageCache cache(dir, keys.run);
    // Features depend on fewer settings than the run: runs that share them (PatchCore,
    // SoftPatch and TailedCore on one data set) share one extraction.
    const fs::path feature_dir = dataset_dir / "features" / keys.feature_dir;
    if (comm.rank() == 0) {
      io::ensure_writable_dir(feature_dir);
      // Shared by concurrent runs: only old files of processes gone from this host.
      io::remove_stale_temporaries(feature_dir, /*locked=*/false);
      record_inputs(feature_dir, inputs);
    }
    comm.barrier();
    StageCache feature_cache(feature_dir, keys.features);
    FeatureSource source(plan, backbone, train, comm);
    StageContext ctx{plan,   method, backbone, catalog, train, cache, feature_cache,
                     source, comm,   summary,  {},      {},    {}};
    auto preds = run_stages(ctx, opts.stop_after);
    if (summary.stopped_early) {
      if (comm.rank() == 0) core::set_log_file("");
      return summary;
    }
    for (const auto& p : preds) check_finite_predictions(p, cache.path("scores"));
    models::accumulate_backbone(combined, preds, plan.backbones.size());
  }

  if (comm.rank() == 0) {
    StageTimer t(summary, "metrics");
    write_results(summary, combined, data::images_per_class(train), plan.transform,
                  opts.pictures_per_class);
  }
  comm.barrier();
  // Per rank with TAILEDCORE_LOG_ALL_RANKS=1 (tests/bench/scaling_rss.sh reads it).
  const auto u = core::usage();
  core::log_info("run done: read ", u.bytes_read >> 20, " MiB in all; peak RSS ", u.peak_rss >> 20,
                 " MiB");
  if (comm.rank() == 0) core::set_log_file("");
  return summary;
}

}  // namespace

}  // namespace tc::pipeline
