// tailedcore nlt apply|make: noisy long-tail variants of an MVTec-format data set.
#include <cstdio>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/data/nlt.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_nlt(const Args& args) {
  TC_CHECK(!args.empty() && (args[0] == "apply" || args[0] == "make" || args[0] == "--help"),
           "nlt: expected 'apply' or 'make' (tailedcore nlt apply --help)");
  const Args rest(args.begin() + 1, args.end());
  std::string source, dest;
  if (args[0] == "apply") {
    std::string prune, noisy;
    data::NltApplyOptions o;
    po::options_description desc("tailedcore nlt apply: build a variant from official manifests");
    desc.add_options()("help,h", "this help")("source", po::value(&source)->required(), "MVTec-format source")(
        "dest", po::value(&dest)->required(), "output folder")(
        "prune-manifest", po::value(&prune)->required(), "prune_good.txt")(
        "noisy-manifest", po::value(&noisy)->required(), "inject_defects.txt")(
        "symlink", po::bool_switch(&o.symlink), "link files instead of copying")(
        "force", po::bool_switch(&o.force), "replace an existing dest");
    po::variables_map vm;
    if (!parse_options(desc, rest, vm)) return 0;
    data::apply_nlt(source, dest, prune, noisy, o);
    return 0;
  }
  data::NltMakeOptions o;
  po::options_description desc("tailedcore nlt make: generate and apply new noisy long-tail manifests");
  desc.add_options()("help,h", "this help")("source", po::value(&source)->required(), "MVTec-format source")(
      "dest", po::value(&dest)->required(), "output folder (its manifests go to <dest>/manifest/)")(
      "profile", po::value(&o.profile)->default_value("pareto"), "pareto | step")(
      "tail-classes", po::value(&o.tail_classes_keep)->default_value(1), "step: good images each tail class keeps (k)")(
      "noise-ratio", po::value(&o.noise_ratio)->default_value(0.1), "injected defects / kept images")(
      "seed", po::value(&o.seed)->default_value(0), "seed")(
      "symlink", po::bool_switch(&o.apply.symlink), "link files instead of copying")(
      "force", po::bool_switch(&o.apply.force), "replace an existing dest");
  po::variables_map vm;
  if (!parse_options(desc, rest, vm)) return 0;
  for (const auto& c : data::make_nlt(source, dest, o))
    std::printf("%-14s %5lld good + %3lld defects\n", c.class_name.c_str(),
                static_cast<long long>(c.good_kept), static_cast<long long>(c.defects_injected));
  return 0;
}

}  // namespace tc::cli
