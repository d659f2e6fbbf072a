#include "tailedcore/datasets/nlt_variant.h"

#include <algorithm>
#include <map>

#include "tailedcore/core/check.h"

namespace tc::datasets {
namespace {

// The official release names its folders mvtecad-nlt and visa-nlt.
const std::map<std::string, std::string> kDatasets = {{"mvtec", "mvtecad-nlt"},
                                                      {"visa", "visa-nlt"}};
const std::vector<std::string> kProfiles = {"pareto", "step_k1", "step_k4"};
const std::vector<std::string> kSeeds = {"seed01", "seed02", "seed03", "seed04", "seed05"};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " | ") + x;
  return s;
}

}  // namespace

ManifestFiles variant_manifests(const std::filesystem::path& reference_dir,
                                const std::string& variant) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t slash; (slash = variant.find('/', begin)) != std::string::npos; begin = slash + 1)
    parts.push_back(variant.substr(begin, slash - begin));
  parts.push_back(variant.substr(begin));
  const std::string expected = "expected DATASET/PROFILE/SEED with DATASET mvtec | visa, PROFILE " +
                               join(kProfiles) + ", SEED seed01..seed05 (e.g. mvtec/pareto/seed01)";
  TC_CHECK(parts.size() == 3, "--variant '", variant, "': ", expected);
  const auto d = kDatasets.find(parts[0]);
  TC_CHECK(d != kDatasets.end() &&
               std::find(kProfiles.begin(), kProfiles.end(), parts[1]) != kProfiles.end() &&
               std::find(kSeeds.begin(), kSeeds.end(), parts[2]) != kSeeds.end(),
           "--variant '", variant, "': ", expected);
  const auto dir = reference_dir / "manifest" / d->second / parts[1] / parts[2];
  ManifestFiles m{dir / "prune_good.txt", dir / "inject_defects.txt"};
  for (const auto& f : {m.prune_good, m.inject_defects})
    TC_CHECK(std::filesystem::is_regular_file(f), f.string(), ": manifest of variant '", variant,
             "' is missing (the official manifests ship in reference/; pass --reference DIR)");
  return m;
}

}  // namespace tc::datasets
