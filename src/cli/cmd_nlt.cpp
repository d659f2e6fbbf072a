// tailedcore nlt apply|make: noisy long-tail variants of an MVTec-format data set.
#include <cstdio>
#include <iostream>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/datasets/nlt.h"
#include "tailedcore/datasets/nlt_variant.h"

namespace po = boost::program_options;

namespace tc::cli {

namespace {

// The options of `nlt apply` and `nlt make`, built in one place for parsing
// and for `tailedcore nlt --help`, which shows both.
struct ApplyArgs {
  std::string source, dest, prune, noisy, variant, reference = TC_DEFAULT_REFERENCE_DIR;
  datasets::NltApplyOptions o;
  po::options_description desc{
      "tailedcore nlt apply: build a variant from official manifests (--variant NAME, or both "
      "manifest files)"};
  ApplyArgs() {
    desc.add_options()("help,h", "this help")("source", po::value(&source)->required(),
                                              "MVTec-format source")(
        "dest", po::value(&dest)->required(), "output folder")(
        "variant", po::value(&variant),
        "official variant: mvtec|visa / pareto|step_k1|step_k4 / seed01..seed05")(
        "reference", po::value(&reference)->default_value(reference),
        "folder holding manifest/ (for --variant)")(
        "prune-manifest", po::value(&prune), "prune_good.txt")("noisy-manifest", po::value(&noisy),
                                                               "inject_defects.txt")(
        "symlink", po::bool_switch(&o.symlink), "link files instead of copying")(
        "force", po::bool_switch(&o.force), "replace an existing dest");
  }
};

struct MakeArgs {
  std::string source, dest;
  datasets::NltMakeOptions o;
  po::options_description desc{
      "tailedcore nlt make: generate and apply new noisy long-tail manifests"};
  MakeArgs() {
    desc.add_options()("help,h", "this help")("source", po::value(&source)->required(),
                                              "MVTec-format source")(
        "dest", po::value(&dest)->required(),
        "output folder (its manifests go to <dest>/manifest/)")(
        "profile", po::value(&o.profile)->default_value("pareto"), "pareto | step")(
        "tail-classes", po::value(&o.tail_classes_keep)->default_value(1),
        "step: good images each tail class keeps (k)")(
        "noise-ratio", po::value(&o.noise_ratio)->default_value(0.1),
        "injected defects / kept images")("seed", po::value(&o.seed)->default_value(0), "seed")(
        "symlink", po::bool_switch(&o.apply.symlink), "link files instead of copying")(
        "force", po::bool_switch(&o.apply.force), "replace an existing dest");
  }
};

}  // namespace

int cmd_nlt(const Args& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "tailedcore nlt apply|make [options]: noisy long-tail variants of an MVTec-format "
                 "data set\n\n"
              << ApplyArgs().desc << "\n"
              << MakeArgs().desc << "\n";
    return 0;
  }
  TC_CHECK(!args.empty() && (args[0] == "apply" || args[0] == "make"),
           "nlt: expected 'apply' or 'make' (tailedcore nlt --help)");
  const Args rest(args.begin() + 1, args.end());
  po::variables_map vm;
  if (args[0] == "apply") {
    ApplyArgs a;
    if (!parse_options(a.desc, rest, vm)) return 0;
    TC_CHECK(
        a.variant.empty() || (a.prune.empty() && a.noisy.empty()),
        "nlt apply: expected --variant NAME or --prune-manifest F --noisy-manifest F (not both)");
    if (!a.variant.empty()) {
      const auto m = datasets::variant_manifests(a.reference, a.variant);
      a.prune = m.prune_good.string();
      a.noisy = m.inject_defects.string();
    }
    TC_CHECK(!a.prune.empty(), "the option '--prune-manifest' is required (or --variant NAME)");
    TC_CHECK(!a.noisy.empty(), "the option '--noisy-manifest' is required (or --variant NAME)");
    datasets::apply_nlt(a.source, a.dest, a.prune, a.noisy, a.o);
    return 0;
  }
  MakeArgs m;
  if (!parse_options(m.desc, rest, vm)) return 0;
  for (const auto& c : datasets::make_nlt(m.source, m.dest, m.o))
    std::printf("%-14s %5lld good + %3lld defects\n", c.class_name.c_str(),
                static_cast<long long>(c.good_kept), static_cast<long long>(c.defects_injected));
  return 0;
}

}  // namespace tc::cli
