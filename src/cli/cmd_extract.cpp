// tailedcore extract --data DIR --config C --out features.h5 [--backbone-weights FILE]
// (the run's features stage on its own: the same sharded features.h5)
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/world.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/files.h"
#include "tailedcore/pipeline/cache_keys.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/inputs.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_extract(const Args& args) {
  std::string data, config, out, split = "train", cls, weights;
  std::vector<std::string> overrides;
  int threads = 0;
  po::options_description desc("tailedcore extract: patch features and global embeddings to HDF5");
  desc.add_options()("help,h", "this help")("data", po::value(&data)->required(),
                                            "MVTec-format folder")(
      "config,c", po::value(&config)->required(), "YAML config (backbone, layers, sizes)")(
      "out", po::value(&out)->required(), "features.h5")(
      "split", po::value(&split)->default_value("train"), "train (the pooled training set) | test")(
      "class", po::value(&cls), "test class (with --split test)")(
      "set", po::value(&overrides)->composing(), "override a config key")(
      "backbone-weights", po::value(&weights),
      "TorchScript weights file (= --set model.backbone_weights=FILE; taken as given, not relative "
      "to the config)")("threads", po::value(&threads)->default_value(0),
                        "threads per rank (0: cores / local ranks)");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  TC_CHECK(split == "train" || split == "test", "--split '", split, "': expected train or test");
  TC_CHECK(split == "train" || !cls.empty(), "--split test needs --class NAME");
  if (vm.count("backbone-weights")) {
    TC_CHECK(std::filesystem::is_regular_file(weights), "--backbone-weights ", weights, ": ",
             std::filesystem::exists(weights) ? "is not a file" : "does not exist",
             ": expected a TorchScript weights file");
    // Single-quoted YAML: the path stays one string whatever its characters.
    std::string quoted;
    for (const char c : weights) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    overrides.push_back("model.backbone_weights='" + quoted + "'");
  }
  auto world = dist::init_world(nullptr, nullptr);
  io::check_output_file(out);  // before the work, not after it
  return dist::run_guarded(*world, [&] {
    core::set_thread_count(threads);
    const auto cfg = exp::load_config(config, overrides);
    const auto plan = exp::make_plan(cfg);
    const auto catalog = data::Catalog::scan(data);
    const auto train = catalog.train_pool();
    const auto records = split == "train" ? train : catalog.test_set(cls);
    const auto backbone = plan.backbones.front();
    // The run's feature key: this file is what a run on this data caches as features.h5.
    const auto key =
        pipeline::cache_keys(plan, backbone, io::canonical_path(data),
                             pipeline::list_inputs(catalog, cfg.model.backbone_weights).hash)
            .features;
    pipeline::FeatureSource source(plan, backbone, train, *world);
    // As the run's features stage: each rank writes its images' rows to its
    // shard beside --out, which holds the virtual /features over them.
    const auto ex = source.train_shard(records, /*with_embeddings=*/true);
    pipeline::write_features_sharded(out, key, ex, ex.embeddings, records, plan.feature_dtype,
                                     backbone, *world);
    const int64_t rows =
        world->allreduce(torch::tensor({ex.patches.size(0)}), dist::ReduceOp::kSum).item<int64_t>();
    if (world->rank() == 0)
      std::printf("%s: %lld images, %lld x %lld features\n", out.c_str(),
                  static_cast<long long>(records.size()), static_cast<long long>(rows),
                  static_cast<long long>(ex.patches.size(1)));
    return 0;
  });
}

}  // namespace tc::cli
