#include "tailedcore/pipeline/report.h"

#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/eval/metrics.h"
#include "tailedcore/eval/visualize.h"
#include "tailedcore/io/files.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

std::string format_number(double v, int digits) {
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

namespace {

std::string file_stem_of(const std::string& path) {
  const fs::path p(path);
  return p.parent_path().filename().string() + "_" + p.stem().string();
}

void write_pictures(const RunSummary& summary, const models::ClassPredictions& p,
                    const data::TransformOptions& tf, int64_t per_class) {
  if (per_class <= 0) return;
  const double vmin = p.maps.min().item<double>(), vmax = p.maps.max().item<double>();
  // Anomalous images first (what the model should find), then a good one.
  std::vector<int64_t> chosen;
  for (int64_t i = 0; i < p.labels.size(0) && static_cast<int64_t>(chosen.size()) < per_class; ++i)
    if (p.labels[i].item<uint8_t>()) chosen.push_back(i);
  for (int64_t i = 0; i < p.labels.size(0); ++i)
    if (!p.labels[i].item<uint8_t>()) {
      chosen.push_back(i);
      break;
    }
  for (int64_t i : chosen) {
    const auto& path = p.image_paths[i];
    eval::write_overlay_png(
        summary.run_dir / "pictures" / p.class_name / (file_stem_of(path) + ".png"),
        data::load_image(path, tf), p.masks[i], p.maps[i], vmin, vmax);
  }
}

// eval::mean_of_defined over the classes (only_tail: -1 all, 1 tail, 0 head).
eval::DefinedMean mean_of(const std::vector<ClassRow>& rows, double ClassRow::*field,
                          int only_tail) {
  std::vector<double> values;
  for (const auto& r : rows)
    if (only_tail < 0 || r.tail_class == (only_tail == 1)) values.push_back(r.*field);
  return eval::mean_of_defined(values);
}

}  // namespace

TailScore score_tail_selection(const std::vector<data::ImageRecord>& train,
                               const at::Tensor& tail) {
  const auto counts = data::images_per_class(train);
  std::vector<bool> selected(train.size(), false);
  const auto idx = tail.to(torch::kInt64).contiguous();
  const auto acc = idx.accessor<int64_t, 1>();
  for (int64_t i = 0; i < acc.size(0); ++i) selected[acc[i]] = true;
  TailScore t;
  t.selected = acc.size(0);
  for (size_t i = 0; i < train.size(); ++i) {
    const bool is_tail = counts.at(train[i].class_name) <= kTailClassMaxImages;
    t.truth += is_tail;
    t.hits += is_tail && selected[i];
  }
  return t;
}

void record_tail_selection(RunSummary& summary, const std::vector<data::ImageRecord>& train,
                           const at::Tensor& tail) {
  const auto t = score_tail_selection(train, tail);
  summary.tail_selected = t.selected;
  summary.tail_truth = t.truth;
  summary.tail_true_positives = t.hits;
  core::log_info("tail: ", t.selected, " images selected; ", t.hits, " of ", t.truth,
                 " images of tail classes (<= ", kTailClassMaxImages, " training images)");
}

void write_results(RunSummary& summary, const std::vector<models::ClassPredictions>& predictions,
                   const std::map<std::string, int64_t>& train_counts,
                   const data::TransformOptions& transform, int64_t pictures_per_class) {
  std::vector<eval::ClassMetrics> metrics;
  summary.classes.clear();
  for (const auto& p : predictions) {
    auto m = eval::evaluate_class(p.class_name, p.image_scores, p.labels, p.maps, p.masks);
    if (!m.undefined.empty()) core::log_warn("class ", p.class_name, ": ", m.undefined);
    metrics.push_back(m);
    ClassRow row;
    row.class_name = p.class_name;
    const auto it = train_counts.find(p.class_name);
    row.train_images = it == train_counts.end() ? 0 : it->second;
    row.tail_class = row.train_images <= kTailClassMaxImages;
    row.image_auroc = m.image_auroc;
    row.pixel_auroc = m.pixel_auroc;
    row.aupro = m.aupro;
    row.image_f1_max = m.image_f1_max;
    row.pixel_f1_max = m.pixel_f1_max;
    summary.classes.push_back(row);
    write_pictures(summary, p, transform, pictures_per_class);
  }
  summary.mean_image_auroc = mean_of(summary.classes, &ClassRow::image_auroc, -1).mean;
  summary.mean_pixel_auroc = mean_of(summary.classes, &ClassRow::pixel_auroc, -1).mean;
  eval::write_metrics_csv(summary.run_dir / "metrics.csv", metrics);
  io::write_text_atomic(summary.run_dir / "report.md", markdown_report(summary));
  const std::string note = means_note(summary);
  core::log_info("mean image AUROC ", format_number(summary.mean_image_auroc), ", pixel AUROC ",
                 format_number(summary.mean_pixel_auroc), note.empty() ? "" : " (" + note + ")",
                 "; results in ", summary.run_dir.string());
}

std::string means_note(const RunSummary& s) {
  const std::vector<std::pair<const char*, double ClassRow::*>> metrics = {
      {"image AUROC", &ClassRow::image_auroc},
      {"pixel AUROC", &ClassRow::pixel_auroc},
      {"AUPRO", &ClassRow::aupro}};
  std::string note;
  for (const auto& [label, field] : metrics) {
    const auto m = mean_of(s.classes, field, -1);
    if (m.left_out == 0) continue;
    std::string names;
    for (const auto& r : s.classes)
      if (std::isnan(r.*field)) names += (names.empty() ? "" : ", ") + r.class_name;
    note += (note.empty() ? "" : "; ") + std::string(label) + " over " + std::to_string(m.used) +
            " of " + std::to_string(m.used + m.left_out) +
            " classes (undefined, left out: " + names + ")";
  }
  return note;
}

std::string markdown_report(const RunSummary& s) {
  std::ostringstream md;
  md << "# " << s.model << " — " << s.run_dir.string() << "\n\n";
  md << "| class | train images | tail class | image AUROC | pixel AUROC | AUPRO | image F1-max | "
        "pixel F1-max |\n";
  md << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : s.classes)
    md << "| " << r.class_name << " | " << r.train_images << " | " << (r.tail_class ? "yes" : "")
       << " | " << format_number(r.image_auroc) << " | " << format_number(r.pixel_auroc) << " | "
       << format_number(r.aupro) << " | " << format_number(r.image_f1_max) << " | "
       << format_number(r.pixel_f1_max) << " |\n";
  md << "| **mean** | | | **" << format_number(s.mean_image_auroc) << "** | **"
     << format_number(s.mean_pixel_auroc) << "** | "
     << format_number(mean_of(s.classes, &ClassRow::aupro, -1).mean) << " | | |\n\n";
  const std::string note = means_note(s);
  if (!note.empty())
    md << "Means are over the classes where a metric is defined: " << note << ".\n\n";
  md << "Tail classes (at most " << kTailClassMaxImages << " training images): image AUROC "
     << format_number(mean_of(s.classes, &ClassRow::image_auroc, 1).mean) << ", pixel AUROC "
     << format_number(mean_of(s.classes, &ClassRow::pixel_auroc, 1).mean)
     << ". Head classes: image AUROC "
     << format_number(mean_of(s.classes, &ClassRow::image_auroc, 0).mean) << ", pixel AUROC "
     << format_number(mean_of(s.classes, &ClassRow::pixel_auroc, 0).mean) << ".\n\n";
  if (s.tail_selected >= 0) {
    const TailScore t{s.tail_selected, s.tail_truth, s.tail_true_positives};
    const double precision = t.precision(), recall = t.recall();
    md << "Tail selection: " << s.tail_selected << " images selected, " << s.tail_true_positives
       << " of the " << s.tail_truth << " tail-class images: precision "
       << format_number(precision, 3) << ", recall " << format_number(recall, 3) << ".\n\n";
  }
  md << "Stage wall times: ";
  for (size_t i = 0; i < s.stage_seconds.size(); ++i)
    md << (i ? ", " : "") << s.stage_seconds[i].first << " "
       << format_number(s.stage_seconds[i].second, 1) << " s";
  md << "\n\nPictures (image | ground truth | anomaly map): `pictures/<class>/`.\n";
  return md.str();
}

}  // namespace tc::pipeline
