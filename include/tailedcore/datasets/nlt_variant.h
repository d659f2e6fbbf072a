// The official noisy long-tail variants by name: "mvtec/pareto/seed01" is
// reference/manifest/mvtecad-nlt/pareto/seed01/{prune_good.txt,
// inject_defects.txt}. Datasets mvtec | visa, profiles pareto | step_k1 |
// step_k4, seeds seed01..seed05 (the official release, shipped in reference/).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tc::datasets {

/// Where a variant's two manifests are (nlt_recipe.h's NltManifests holds their lines).
struct ManifestFiles {
  std::filesystem::path prune_good, inject_defects;
};

/// The manifests of `variant` under `reference_dir`; a malformed name or a
/// missing file is an error naming the expected parts / the file.
ManifestFiles variant_manifests(const std::filesystem::path& reference_dir,
                                const std::string& variant);

}  // namespace tc::datasets
