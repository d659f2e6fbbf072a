// The generator of new noisy long-tail manifests (SPEC 1.4's recipe, read in
// the research repo's make_tailed_noisy_mvtec.py) and the builder that writes a
// variant together with its manifests. The official manifests are applied
// with apply_nlt (nlt.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tailedcore/datasets/nlt.h"

namespace tc::datasets {

struct NltRecipe {
  std::string profile = "pareto";  // pareto | step
  int64_t tail_images = 1;         // step: good images a tail class keeps (k = 1 or 4 officially)
  double tail_class_ratio = 0.6;   // step: round(ratio * #classes) tail classes
  double noise_ratio = 0.1;        // officially 0.1 for MVTec, 0.05 for VisA
  uint64_t seed = 0;
  double pareto_alpha = 6.0;          // pareto: shape of the class-size pmf
  double pareto_epsilon = 0.01;       // pareto: pmf support [ppf(eps), ppf(1 - eps)]
  int64_t pareto_min_images = 5;      // pareto: every class keeps at least this many
  int64_t noise_min_class_size = 20;  // pareto: noise only into classes keeping >= this many
};

/// Manifests in the official format and what they do per class.
struct NltManifests {
  std::vector<std::string> prune_good;      // sorted "<cls>/train/good/<file>"
  std::vector<std::string> inject_defects;  // sorted "<cls>/train/good/<defect>_<file>"
  std::vector<ClassCounts> counts;          // one per class, sorted class order
};

/// The discrete Pareto pmf of the research repo (get_discrete_pareto_pmf):
/// x = linspace(ppf(eps), ppf(1 - eps), bins + 1) with the Pareto(alpha, scale 1)
/// quantile ppf(q) = (1 - q)^(-1/alpha); pmf_i = cdf(x_{i+1}) - cdf(x_i) with
/// cdf(x) = 1 - x^(-alpha). Descending, sums to 1 - 2 eps. MVTec (15 bins)
/// scaled to 264 images: 264, 160, 100, 65, 43, 29, 20, 14, 10, 7, 5, 4, ...
std::vector<double> discrete_pareto_pmf(double alpha, int64_t bins, double epsilon = 0.01);

/// Draws manifests for the class folders of `source` (an MVTec-format tree):
///  step:   round(tail_class_ratio * C) random tail classes keep `tail_images`
///          random good images (all if they have fewer); every other (head) class
///          keeps all and gets min(#defects, round(noise_ratio * N_good)) random
///          test defect images.
///  pareto: discrete_pareto_pmf(alpha, C) shuffled over the classes, scaled so the
///          class given the largest pmf keeps all its N images; the others keep
///          round(pmf * factor) clipped to [pareto_min_images, N] random images.
///          Noise: round(noise_ratio * total kept) draws, image-wise (a class is
///          drawn in proportion to its kept images) among the classes keeping
///          >= noise_min_class_size images; a class gets at most its #defects.
/// round() is half-to-even (Python's). Random choices use std::mt19937_64(seed)
/// with our own Fisher-Yates shuffle and rejection sampling (no std::shuffle or
/// std::uniform_int_distribution, whose algorithms differ between standard
/// libraries), so the same seed gives the same manifests everywhere. The draw
/// order is: tail classes (step) or pmf shuffle (pareto); per class in sorted
/// order the good-image shuffle; the noise draw (pareto); per class the defect
/// shuffle. It does not reproduce the official manifests (Python's RNG).
NltManifests draw_nlt_manifests(const std::filesystem::path& source, const NltRecipe& recipe);

/// "class,good_kept,defects_injected,total" and one row per class.
std::string nlt_counts_csv(const std::vector<ClassCounts>& counts);

/// Draws manifests, builds the variant as apply_nlt does and stores
/// dest/manifest/{prune_good.txt, inject_defects.txt, counts.csv} (official
/// format: no final newline). The manifest folder has neither train/ nor test/,
/// so Catalog::scan and apply_nlt skip it. Everything is built under a temporary
/// sibling of `dest` renamed to `dest` last; on error it is removed.
/// An existing `dest` is an error unless `apply.force`.
NltManifests build_nlt_variant(const std::filesystem::path& source,
                               const std::filesystem::path& dest, const NltRecipe& recipe,
                               const NltApplyOptions& apply = {});

}  // namespace tc::datasets
