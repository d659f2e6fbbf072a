// Per-class metrics (SPEC 6 plus the field's standard AUPRO and F1-max).
// Inputs are host tensors; results are fractions in [0, 1] except in
// ClassMetrics, which reports percentages like the reference's CSV.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::eval {

/// Exact, tie-aware ROC AUC (= sklearn roc_auc_score): scores [n] float,
/// labels [n] {0,1}. NaN when only one class is present.
double auroc(const at::Tensor& scores, const at::Tensor& labels);

/// Largest F1 over all thresholds (precision_recall_curve semantics); NaN
/// without positives.
double f1_max(const at::Tensor& scores, const at::Tensor& labels);

/// Area under the per-region-overlap curve up to `max_fpr`, divided by
/// max_fpr (the MVTec AD evaluation): regions are the 8-connected components
/// of each mask; maps [n, H, W] float, masks [n, H, W] {0,1}. NaN without regions.
double aupro(const at::Tensor& maps, const at::Tensor& masks, double max_fpr = 0.3);

struct ClassMetrics {
  std::string class_name;
  double image_auroc = 0, pixel_auroc = 0, aupro = 0, image_f1_max = 0, pixel_f1_max = 0;  // x100
  int64_t n_images = 0;
  /// Why some of the metrics above are NaN (undefined), e.g. "image AUROC
  /// undefined: all 12 test images are good"; "" when all are defined.
  std::string undefined;
};

/// The metrics of one class; `undefined` says which are NaN and why (a test
/// set of one label; masks without a defect pixel, i.e. none == 255).
ClassMetrics evaluate_class(const std::string& name, const at::Tensor& image_scores,
                            const at::Tensor& labels, const at::Tensor& maps,
                            const at::Tensor& masks);

/// The one rule for a mean over classes, used by metrics.csv, report.md and
/// the console alike: the mean over the classes where the metric is defined
/// (not NaN); the classes left out are counted (and named in the log). NaN
/// when no class has it.
struct DefinedMean {
  double mean = 0;
  int64_t used = 0, left_out = 0;
};
DefinedMean mean_of_defined(const std::vector<double>& values);

/// One row per class plus a final "mean" row (mean_of_defined), class names
/// quoted per RFC 4180 where they must be; atomic.
void write_metrics_csv(const std::filesystem::path& path, const std::vector<ClassMetrics>& rows);

}  // namespace tc::eval
