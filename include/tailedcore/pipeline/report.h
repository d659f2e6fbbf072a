// What a run leaves for a person: metrics.csv, anomaly-map pictures and a
// Markdown report separating tail classes from head classes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tailedcore/pipeline/run.h"
#include "tailedcore/pipeline/stages.h"

namespace tc::pipeline {

/// Rank 0 only: evaluates every class, fills summary.classes and the means,
/// and writes metrics.csv, pictures/<class>/*.png and report.md in summary.run_dir.
void write_results(RunSummary& summary, const std::vector<ClassPredictions>& predictions,
                   const std::map<std::string, int64_t>& train_counts, const exp::Config& cfg,
                   int64_t pictures_per_class);

/// v with `digits` decimals; "nan" for NaN (the reports' numbers).
std::string format_number(double v, int digits = 2);

/// The summary as a Markdown report (also used by the main job for several runs).
std::string markdown_report(const RunSummary& summary);

}  // namespace tc::pipeline
