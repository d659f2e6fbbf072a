// tailedcore visa convert: VisA to MVTec layout from the official split CSV.
#include <iostream>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/datasets/visa.h"

namespace po = boost::program_options;

namespace tc::cli {

int cmd_visa(const Args& args) {
  std::string source, csv, dest;
  bool force = false;
  po::options_description desc("tailedcore visa convert: VisA -> MVTec layout (masks binarised)");
  desc.add_options()("help,h", "this help")("source", po::value(&source)->required(),
                                            "VisA folder")("split-csv", po::value(&csv)->required(),
                                                           "split_csv/1cls.csv")(
      "dest", po::value(&dest)->required(), "output folder")("force", po::bool_switch(&force),
                                                             "replace dest");
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << desc << "\n";
    return 0;
  }
  TC_CHECK(!args.empty() && args[0] == "convert",
           "visa: expected 'convert' (tailedcore visa --help)");
  po::variables_map vm;
  if (!parse_options(desc, Args(args.begin() + 1, args.end()), vm)) return 0;
  datasets::convert_visa(source, csv, dest, force);
  return 0;
}

}  // namespace tc::cli
