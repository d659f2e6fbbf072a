#include "tailedcore/pipeline/comparison.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/eval/charts.h"
#include "tailedcore/eval/metrics.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/pipeline/artifacts.h"
#include "tailedcore/pipeline/report.h"
#include "tailedcore/pipeline/run.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

std::string fmt(double v, int digits = 2) { return format_number(v, digits); }

struct MethodRun {
  std::string name;
  std::vector<models::ClassPredictions> preds;   // in catalog class order
  std::vector<double> image_auroc, pixel_auroc;  // x100, per class
};

// eval::mean_of_defined over the classes (only_tail: -1 all, 1 tail, 0 head): one rule with run
// reports.
double mean_where(const std::vector<double>& v, const std::vector<bool>& tail, int only_tail) {
  std::vector<double> picked;
  for (size_t i = 0; i < v.size(); ++i)
    if (only_tail < 0 || tail[i] == (only_tail == 1)) picked.push_back(v[i]);
  return eval::mean_of_defined(picked).mean;
}

// A run of another data set is refused, and the images compare renders are
// the test images of --data's own catalog, never a path read from scores.h5:
// each class's image_paths must be, in order, that class's test images.
void check_run_of_data(const fs::path& scores, const models::ClassPredictions& p,
                       const std::vector<data::ImageRecord>& test, const fs::path& data_dir) {
  TC_CHECK(p.image_paths.size() == test.size(), scores.string(), " /", p.class_name,
           "/image_paths: ", p.image_paths.size(), " test images, but ", data_dir.string(), " has ",
           test.size(), " in ", p.class_name,
           ": expected a run made on --data (runs of another data set are refused)");
  for (size_t k = 0; k < test.size(); ++k)
    TC_CHECK(io::canonical_path(p.image_paths[k]) == io::canonical_path(test[k].path),
             scores.string(), " /", p.class_name, "/image_paths[", k, "] '", p.image_paths[k],
             "' is not ", data_dir.string(), "'s test image ", test[k].path,
             ": expected a run made on --data (runs of another data set are refused)");
}

std::string safe_name(const std::string& path) {
  const fs::path p(path);
  return p.parent_path().filename().string() + "_" + p.stem().string();
}

}  // namespace

std::string write_comparison(const ComparisonOptions& opts) {
  TC_CHECK(!opts.runs.empty(), "compare: expected at least one run folder");
  TC_CHECK(opts.names.empty() || opts.names.size() == opts.runs.size(),
           "compare: ", opts.names.size(), " names for ", opts.runs.size(), " runs");
  for (const auto& r : opts.runs) {
    TC_CHECK(fs::is_regular_file(r / "scores.h5"), (r / "scores.h5").string(),
             ": missing (not a finished run folder)");
    TC_CHECK(fs::is_regular_file(r / "config.yaml"), (r / "config.yaml").string(), ": missing");
  }
  const auto catalog = data::Catalog::scan(opts.data_dir);
  const auto train = catalog.train_pool();
  const auto& classes = catalog.classes();
  auto counts = data::images_per_class(train);
  std::vector<bool> tail;
  for (const auto& c : classes) tail.push_back(counts[c] <= kTailClassMaxImages);
  std::vector<std::vector<data::ImageRecord>> test_sets;
  for (const auto& c : classes) test_sets.push_back(catalog.test_set(c));

  std::vector<MethodRun> methods;
  for (size_t i = 0; i < opts.runs.size(); ++i) {
    MethodRun m;
    m.name = opts.names.empty() ? opts.runs[i].filename().string() : opts.names[i];
    m.preds = read_scores(opts.runs[i] / "scores.h5", classes);
    for (size_t c = 0; c < classes.size(); ++c)
      check_run_of_data(opts.runs[i] / "scores.h5", m.preds[c], test_sets[c], opts.data_dir);
    for (const auto& p : m.preds) {
      m.image_auroc.push_back(100 * eval::auroc(p.image_scores, p.labels));
      m.pixel_auroc.push_back(100 * eval::auroc(p.maps, p.masks));
    }
    methods.push_back(std::move(m));
  }
  io::ensure_writable_dir(opts.out_dir);

  std::ostringstream md;
  md << "# " << fs::absolute(opts.data_dir).filename().string() << ": ";
  for (size_t i = 0; i < methods.size(); ++i) md << (i ? " vs " : "") << methods[i].name;
  md << "\n\n"
     << train.size() << " training images in " << classes.size()
     << " classes; tail classes (*): at most " << kTailClassMaxImages << " training images.\n\n";

  // The table: image AUROC per method, then pixel AUROC per method.
  md << "| class | train images |";
  for (const auto& m : methods) md << " image AUROC " << m.name << " |";
  for (const auto& m : methods) md << " pixel AUROC " << m.name << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < 2 * methods.size(); ++i) md << "---|";
  md << "\n";
  for (size_t c = 0; c < classes.size(); ++c) {
    md << "| " << classes[c] << (tail[c] ? " *" : "") << " | " << counts[classes[c]] << " |";
    for (const auto& m : methods) md << " " << fmt(m.image_auroc[c]) << " |";
    for (const auto& m : methods) md << " " << fmt(m.pixel_auroc[c]) << " |";
    md << "\n";
  }
  const std::vector<std::pair<std::string, int>> groups = {
      {"mean", -1}, {"tail classes", 1}, {"head classes", 0}};
  for (const auto& [label, which] : groups) {
    md << "| **" << label << "** | |";
    for (const auto& m : methods)
      md << " **" << fmt(mean_where(m.image_auroc, tail, which)) << "** |";
    for (const auto& m : methods)
      md << " **" << fmt(mean_where(m.pixel_auroc, tail, which)) << "** |";
    md << "\n";
  }

  // Charts.
  const auto chart = [&](const std::string& file, const std::string& what,
                         std::vector<double> MethodRun::*field) {
    std::vector<eval::BarSeries> series;
    double lo = 100;
    for (const auto& m : methods) {
      series.push_back({m.name, m.*field});
      for (double v : m.*field)
        if (!std::isnan(v)) lo = std::min(lo, v);
    }
    lo = std::max(0.0, std::floor(lo / 10) * 10);
    eval::write_bar_chart(opts.out_dir / "charts" / file, what + " per class", classes, series, lo,
                          100, what, tail, "* tail class");
  };
  chart("image_auroc.png", "image AUROC", &MethodRun::image_auroc);
  chart("pixel_auroc.png", "pixel AUROC", &MethodRun::pixel_auroc);
  md << "\n![image AUROC per class](charts/image_auroc.png)\n\n![pixel AUROC per "
        "class](charts/pixel_auroc.png)\n";

  // What TailedCore does: its class-size estimate per training image against the truth.
  for (size_t i = 0; i < opts.runs.size(); ++i) {
    if (!fs::is_regular_file(opts.runs[i] / "tail.h5")) continue;
    io::H5Reader r(opts.runs[i] / "tail.h5");
    const auto sizes = r.read("class_sizes").to(torch::kFloat64).contiguous();
    const auto tail_idx = r.read("tail_indices").to(torch::kInt64).contiguous();
    TC_CHECK(sizes.numel() == static_cast<int64_t>(train.size()),
             (opts.runs[i] / "tail.h5").string(), ": ", sizes.numel(), " class sizes for ",
             train.size(), " training images in ", opts.data_dir.string());
    std::vector<bool> selected(train.size(), false);
    for (int64_t k = 0; k < tail_idx.numel(); ++k) selected[tail_idx[k].item<int64_t>()] = true;
    eval::ScatterGroup sel{"selected as tail", {}, {}}, rest{"not selected", {}, {}};
    for (size_t k = 0; k < train.size(); ++k) {
      auto& g = selected[k] ? sel : rest;
      g.x.push_back(static_cast<double>(counts[train[k].class_name]));
      g.y.push_back(sizes[k].item<double>());
    }
    const auto score = score_tail_selection(train, tail_idx);
    const std::string file = "class_sizes_" + methods[i].name + ".png";
    eval::write_scatter_log2(opts.out_dir / "charts" / file,
                             methods[i].name + ": estimated class size per training image",
                             "true class size", "estimated class size", {sel, rest});
    md << "\n## " << methods[i].name << ": class sizes\n\n"
       << "Each training image's estimated class size against its class's true size (log2 axes; "
          "the grey line"
       << " is y = x). " << score.selected << " images selected as tail, " << score.hits
       << " of the " << score.truth << " tail-class images: precision " << fmt(score.precision(), 3)
       << ", recall " << fmt(score.recall(), 3) << ".\n\n![class sizes](charts/" << file << ")\n";
  }

  // Anomaly maps, the methods side by side for the same image.
  const auto tf = exp::make_plan(exp::load_config(opts.runs[0] / "config.yaml", {})).transform;
  md << "\n## Anomaly maps\n\nImage, ground truth (red outline), then each method's map over the "
        "image with its"
     << " image score; each method's colour scale spans its own map values over the class (the "
        "black tick"
     << " on the bar: the image score).\n\n";
  for (size_t c = 0; c < classes.size(); ++c) {
    const auto& first = methods[0].preds[c];
    int64_t shown = 0;
    for (int64_t k = 0; k < first.labels.size(0) && shown < opts.pictures_per_class; ++k) {
      if (!first.labels[k].item<uint8_t>()) continue;
      std::vector<eval::MapPanel> panels;
      for (const auto& m : methods) {
        const auto& p = m.preds[c];
        panels.push_back({m.name, p.maps[k], p.image_scores[k].item<double>(),
                          p.maps.min().item<double>(), p.maps.max().item<double>()});
      }
      const std::string& image = test_sets[c][k].path;  // checked against every run's image_paths
      const std::string file = classes[c] + "_" + safe_name(image) + ".png";
      eval::write_map_comparison_png(opts.out_dir / "maps" / file,
                                     classes[c] + (tail[c] ? " (tail class)" : "") + ": " +
                                         fs::path(image).parent_path().filename().string() + "/" +
                                         fs::path(image).filename().string(),
                                     data::load_image(image, tf), first.masks[k], panels);
      md << "![" << classes[c] << "](maps/" << file << ")\n\n";
      ++shown;
    }
  }
  io::write_text_atomic(opts.out_dir / "comparison.md", md.str());
  return md.str();
}

}  // namespace tc::pipeline
