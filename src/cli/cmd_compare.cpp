// tailedcore compare --run DIR... --data DIR --out DIR [--name N...]: the
// side-by-side report of several runs on one data set (pipeline/comparison.h).
#include <cstdio>

#include "options.h"
#include "tailedcore/pipeline/comparison.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_compare(const Args& args) {
  pipeline::ComparisonOptions o;
  std::vector<std::string> runs;
  std::string data, out;
  po::options_description desc(
      "tailedcore compare: per-class AUROC table and charts, class sizes and anomaly maps of "
      "several runs");
  desc.add_options()("help,h", "this help")("run", po::value(&runs)->required()->multitoken(),
                                            "run folders (with scores.h5), in report order")(
      "name", po::value(&o.names)->multitoken(), "a name per run (default: the folder names)")(
      "data", po::value(&data)->required(), "the data folder the runs used")(
      "out", po::value(&out)->required(), "output folder (comparison.md, charts/, maps/)")(
      "pictures", po::value(&o.pictures_per_class)->default_value(1), "defective images per class");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  for (const auto& r : runs) o.runs.emplace_back(r);
  o.data_dir = data;
  o.out_dir = out;
  pipeline::write_comparison(o);
  std::printf("%s\n", (o.out_dir / "comparison.md").string().c_str());
  return 0;
}

}  // namespace tc::cli
