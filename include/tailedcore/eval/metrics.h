// Per-class metrics (SPEC 6 plus the field's standard AUPRO and F1-max).
// Inputs are host tensors; results are fractions in [0, 1] except in
// ClassMetrics, which reports percentages like the reference's CSV.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

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
};

ClassMetrics evaluate_class(const std::string& name, const at::Tensor& image_scores,
                            const at::Tensor& labels, const at::Tensor& maps, const at::Tensor& masks);

/// One row per class plus a final "mean" row (NaN-ignoring mean); atomic.
void write_metrics_csv(const std::filesystem::path& path, const std::vector<ClassMetrics>& rows);

}  // namespace tc::eval
