// What a run leaves for a person: metrics.csv, anomaly-map pictures and a
// Markdown report separating tail classes from head classes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tailedcore/models/predictions.h"
#include "tailedcore/pipeline/run.h"

namespace tc::data {
struct ImageRecord;
struct TransformOptions;
}  // namespace tc::data

namespace tc::pipeline {

/// A tail selection against the truth: the images of classes with at most
/// kTailClassMaxImages training images.
struct TailScore {
  int64_t selected = 0, truth = 0, hits = 0;  // hits: selected images of tail classes
  double precision() const { return selected ? double(hits) / selected : NAN; }
  double recall() const { return truth ? double(hits) / truth : NAN; }
};
TailScore score_tail_selection(const std::vector<data::ImageRecord>& train, const at::Tensor& tail);

/// The tail selection against the truth (images of classes with at most
/// kTailClassMaxImages training images) into the summary and the log.
void record_tail_selection(RunSummary& summary, const std::vector<data::ImageRecord>& train,
                           const at::Tensor& tail);

/// Rank 0 only: evaluates every class, fills summary.classes and the means,
/// and writes metrics.csv, pictures/<class>/*.png (test images under
/// `transform`) and report.md in summary.run_dir.
void write_results(RunSummary& summary, const std::vector<models::ClassPredictions>& predictions,
                   const std::map<std::string, int64_t>& train_counts,
                   const data::TransformOptions& transform, int64_t pictures_per_class);

/// v with `digits` decimals; "nan" for NaN (the reports' numbers).
std::string format_number(double v, int digits = 2);

/// "" when every class has every metric; else which means left classes out
/// (eval::mean_of_defined: the mean over the classes where a metric is
/// defined) and which: "image AUROC over 4 of 5 classes (undefined, left
/// out: bottle)". The console, the log and report.md print it.
std::string means_note(const RunSummary& summary);

/// The summary as a Markdown report (also used by the main job for several runs).
std::string markdown_report(const RunSummary& summary);

}  // namespace tc::pipeline
