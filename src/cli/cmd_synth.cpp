// tailedcore synth --dest DIR [--layout mvtec|visa|small] [--size PX|full] [--seed S] [--force]
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/synth/synth.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_synth(const Args& args) {
  synth::SynthOptions opts;
  std::string dest, size = "default";
  po::options_description desc(
      "tailedcore synth: a deterministic synthetic anomaly-detection data set\n"
      "  mvtec: MVTec AD's classes, defect folders and counts (5354 images), MVTec layout\n"
      "  visa:  the raw VisA tree (12 objects, split_csv/1cls.csv) for `tailedcore visa convert`\n"
      "  small: 6 classes x (40 train, 8 good + 2x6 defective test), MVTec layout");
  desc.add_options()("help,h", "this help")("dest", po::value(&dest)->required(),
                                            "folder to create")(
      "layout", po::value(&opts.layout)->default_value("small"), "mvtec | visa | small")(
      "size", po::value(&size)->default_value("default"),
      "image side in px (16..4096), 'full' (real MVTec resolutions) or 'default' "
      "(64; small: 64..128 per class)")("seed", po::value(&opts.seed)->default_value(0),
                                        "same seed -> byte-identical files")(
      "threads", threads_value(&opts.threads), "render threads (0: all cores)")(
      "force", po::bool_switch(&opts.force), "replace dest if it exists");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  opts.size = synth::parse_synth_size(size);
  const auto summary = synth::generate_synthetic(dest, opts);
  std::printf("synth: %d classes, %d images, %d masks -> %s\n", summary.classes, summary.images,
              summary.masks, summary.dest.string().c_str());
  return 0;
}

}  // namespace tc::cli
