// The report a person would rather look at when several methods ran on one
// data set (the main job: PatchCore, SoftPatch, TailedCore): per class and
// method the image/pixel AUROC table, per-class AUROC charts, TailedCore's
// estimated class sizes against the true ones, and for each class one
// defective test image with every method's anomaly map side by side.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::pipeline {

struct ComparisonOptions {
  std::vector<std::filesystem::path> runs;  // run folders (scores.h5, config.yaml; tail.h5 if any)
  std::vector<std::string> names;           // one per run (default: the folder's name)
  std::filesystem::path data_dir;           // the data the runs used (true class sizes)
  std::filesystem::path out_dir;            // comparison.md and its pictures
  int64_t pictures_per_class = 1;           // defective images per class, side by side
};

/// Writes out_dir/comparison.md, out_dir/charts/*.png and out_dir/maps/*.png;
/// returns the Markdown. A run without scores.h5 is an error naming it.
std::string write_comparison(const ComparisonOptions& opts);

}  // namespace tc::pipeline
