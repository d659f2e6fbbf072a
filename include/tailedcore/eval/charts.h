// Charts a person reads in a report, drawn with OpenCV into PNG files: grouped
// bars (a metric per class and method), a scatter (estimated against true
// class sizes), and anomaly maps of several methods side by side for one
// image, each with its score and colour scale.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace tc::eval {

using Rgb = std::array<int, 3>;
/// Distinct colours for up to 6 series (colour-blind safe, Okabe-Ito).
Rgb series_colour(size_t i);

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category; NaN draws nothing
};

/// Grouped bars: one group per category, one bar per series, y axis
/// [y_min, y_max]; categories flagged in `marked` get a "*" (e.g. tail classes).
void write_bar_chart(const std::filesystem::path& path, const std::string& title,
                     const std::vector<std::string>& categories,
                     const std::vector<BarSeries>& series, double y_min, double y_max,
                     const std::string& y_label, const std::vector<bool>& marked = {},
                     const std::string& marked_note = "");

struct ScatterGroup {
  std::string name;
  std::vector<double> x, y;
};

/// Points on log2 axes from 1 to the largest value, with the diagonal y = x and
/// an optional horizontal line at `threshold` (<= 0: none).
void write_scatter_log2(const std::filesystem::path& path, const std::string& title,
                        const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterGroup>& groups, double threshold = 0,
                        const std::string& threshold_label = "");

struct MapPanel {
  std::string title;  // e.g. the method
  at::Tensor map;     // [H, W]
  double score;       // the image score
  double vmin, vmax;  // the colour scale (the method's range over the class)
};

/// One row: the image, its ground truth outline, then one JET heat map per
/// panel over the image with the panel's title, image score and a colour bar;
/// every panel scaled to `side` pixels. `image` [3, H, W] ImageNet-normalised.
void write_map_comparison_png(const std::filesystem::path& path, const std::string& caption,
                              const at::Tensor& image, const at::Tensor& gt_mask,
                              const std::vector<MapPanel>& panels, int side = 256);

}  // namespace tc::eval
