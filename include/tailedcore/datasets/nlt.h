// Noisy long-tail variants of an MVTec-format data set (SPEC 1.4): the
// official manifests (prune_good.txt, inject_defects.txt: one relative path a
// line, no final newline) applied to a source tree, and a generator of new
// manifests with the same recipe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::datasets {

struct NltApplyOptions {
  bool symlink = false;  // link files instead of copying them
  bool force = false;    // replace an existing dest
};

/// Copies train/good, test and ground_truth of every class of `source`, removes
/// every pruned training image and adds every injected defect image (found as
/// source/<cls>/test/<d>/<file> for the longest defect folder d with
/// "<d>_" prefixing the injected name). Built under a temporary name and
/// renamed at the end (io::build_folder_atomic). Errors name the manifest file and line.
void apply_nlt(const std::filesystem::path& source, const std::filesystem::path& dest,
               const std::filesystem::path& prune_manifest,
               const std::filesystem::path& noisy_manifest, const NltApplyOptions& opts = {});

struct NltChanges {
  int64_t pruned = 0, injected = 0;  // training images removed, defect images added
};

/// apply_nlt's tree written into `dir`, an existing folder that the caller
/// builds atomically (build_nlt_variant adds dir/manifest/ beside it). Every
/// manifest line is checked before anything is written.
NltChanges apply_nlt_into(const std::filesystem::path& source, const std::filesystem::path& dir,
                          const std::filesystem::path& prune_manifest,
                          const std::filesystem::path& noisy_manifest, bool symlink);

/// The manifest's lines (a missing final newline is fine; empty lines are errors).
std::vector<std::string> read_manifest(const std::filesystem::path& path);

struct NltMakeOptions {
  std::string profile = "pareto";  // pareto | step
  int64_t tail_classes_keep = 1;   // step: images a tail class keeps (k)
  double noise_ratio = 0.1;
  uint64_t seed = 0;
  double pareto_alpha = 6.0;
  NltApplyOptions apply;
};

struct ClassCounts {
  std::string class_name;
  int64_t good_kept = 0, defects_injected = 0;
};

/// Draws new manifests with SPEC 1.4's recipe, builds the variant and stores
/// dest/manifest/{prune_good.txt, inject_defects.txt, counts.csv}: the
/// CLI's front end of build_nlt_variant (nlt_recipe.h, which documents the
/// recipe and the RNG). Same seed, same output.
std::vector<ClassCounts> make_nlt(const std::filesystem::path& source,
                                  const std::filesystem::path& dest, const NltMakeOptions& opts);

}  // namespace tc::datasets
