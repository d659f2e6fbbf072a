// tailedcore run -c CONFIG --data DIR [--set key=value]... [--out DIR]
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"
#include "tailedcore/dist/world.h"
#include "tailedcore/pipeline/report.h"
#include "tailedcore/pipeline/run.h"
#include "tailedcore/pipeline/stage.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_run(const Args& args) {
  pipeline::RunOptions opts;
  std::string config, data, out = "results";
  po::options_description desc(
      "tailedcore run: fit a model on a training set, score every test class");
  desc.add_options()("help,h", "this help")("config,c", po::value(&config)->required(),
                                            "YAML config (configs/*.yaml)")(
      "data", po::value(&data)->required(),
      "MVTec-format data folder (noisy long-tail training set)")(
      "set", po::value(&opts.overrides)->composing(),
      "override a config key: --set model.greedy_ratio=0.05")(
      "out", po::value(&out)->default_value("results"),
      "results root: <out>/<dataset>/<config>/<run-id>/")(
      "dataset-name", po::value(&opts.dataset_name),
      "name of the data set in the results path (default: folder name)")(
      "run-id", po::value(&opts.run_id),
      "run folder name (default: the config hash, so a rerun resumes)")(
      "stop-after", po::value(&opts.stop_after),
      ("stop after this stage: " + core::join_names(pipeline::stage_ids())).c_str())(
      "pictures", po::value(&opts.pictures_per_class)->default_value(2),
      "anomaly-map pictures per class")("threads", threads_value(&opts.threads),
                                        "threads per rank (0: cores / local ranks)");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  opts.config_path = config;
  opts.data_dir = data;
  opts.out_root = out;

  auto world = dist::init_world(nullptr, nullptr);
  return dist::run_guarded(*world, [&] {
    const auto summary = pipeline::run_experiment(opts, *world);
    if (world->rank() == 0 && !summary.stopped_early) {
      std::printf("%-14s %12s %12s\n", "class", "image AUROC", "pixel AUROC");
      for (const auto& c : summary.classes)
        std::printf("%-14s %12.2f %12.2f\n", c.class_name.c_str(), c.image_auroc, c.pixel_auroc);
      std::printf("%-14s %12.2f %12.2f\n", "mean", summary.mean_image_auroc,
                  summary.mean_pixel_auroc);
      const std::string note = pipeline::means_note(summary);
      if (!note.empty()) std::printf("means: %s\n", note.c_str());
      std::printf("results: %s\n", summary.run_dir.string().c_str());
    }
    return 0;
  });
}

}  // namespace tc::cli
