#include "tailedcore/eval/charts.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "picture.h"
#include "tailedcore/core/check.h"

namespace tc::eval {
namespace {

const cv::Scalar kBlack(0, 0, 0), kGrey(170, 170, 170), kLight(230, 230, 230),
    kWhite(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

cv::Scalar bgr(const Rgb& c) { return cv::Scalar(c[2], c[1], c[0]); }

// Few digits for large values (anomaly scores run from 0.01 to 10^5).
std::string short_number(double v) {
  const double a = std::abs(v);
  std::ostringstream os;
  os << std::fixed << std::setprecision(a >= 100 ? 0 : a >= 1 ? 2 : 3) << v;
  return os.str();
}

std::string fmt(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.45,
          const cv::Scalar& colour = kBlack, int thickness = 1) {
  cv::putText(img, s, at, kFont, scale, colour, thickness, cv::LINE_AA);
}

int text_width(const std::string& s, double scale = 0.45) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, 1, &base).width;
}

// Text rotated by 90 degrees (reading upwards), its centre at `centre`.
void vertical_text(cv::Mat& img, const std::string& s, cv::Point centre, double scale = 0.45) {
  const int w = text_width(s, scale) + 4, h = 18;
  cv::Mat strip(h, w, CV_8UC3, kWhite);
  text(strip, s, {2, h - 5}, scale);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const cv::Rect r(centre.x - rotated.cols / 2, centre.y - rotated.rows / 2, rotated.cols,
                   rotated.rows);
  if ((r & cv::Rect(0, 0, img.cols, img.rows)) == r) rotated.copyTo(img(r));
}

void legend(cv::Mat& img, const std::vector<std::string>& names, cv::Point at) {
  for (size_t i = 0; i < names.size(); ++i) {
    cv::rectangle(img, {at.x, at.y - 10}, {at.x + 14, at.y + 2}, bgr(series_colour(i)), cv::FILLED);
    text(img, names[i], {at.x + 20, at.y});
    at.x += 40 + text_width(names[i]);
  }
}

}  // namespace

Rgb series_colour(size_t i) {
  static const std::vector<Rgb> c = {{0, 114, 178},   {230, 159, 0},  {0, 158, 115},
                                     {204, 121, 167}, {86, 180, 233}, {213, 94, 0}};
  return c[i % c.size()];
}

void write_bar_chart(const std::filesystem::path& path, const std::string& title,
                     const std::vector<std::string>& categories,
                     const std::vector<BarSeries>& series, double y_min, double y_max,
                     const std::string& y_label, const std::vector<bool>& marked,
                     const std::string& marked_note) {
  TC_CHECK(!categories.empty() && !series.empty() && y_max > y_min, path.string(),
           ": a bar chart needs categories, series and y_max > y_min");
  for (const auto& s : series)
    TC_CHECK(s.values.size() == categories.size(), path.string(), ": series '", s.name, "' has ",
             s.values.size(), " values for ", categories.size(), " categories");
  const int bar = 12, gap = 14, left = 70, right = 20, top = 60, plot_h = 320, bottom = 110;
  const int group = static_cast<int>(series.size()) * bar + gap;
  const int plot_w = group * static_cast<int>(categories.size());
  cv::Mat img(top + plot_h + bottom, left + plot_w + right, CV_8UC3, kWhite);
  const auto y_of = [&](double v) {
    return top + plot_h -
           static_cast<int>(
               std::lround((std::clamp(v, y_min, y_max) - y_min) / (y_max - y_min) * plot_h));
  };
  const double step = (y_max - y_min) <= 20 ? 2 : (y_max - y_min) <= 50 ? 5 : 10;
  for (double v = std::ceil(y_min / step) * step; v <= y_max + 1e-9; v += step) {
    cv::line(img, {left, y_of(v)}, {left + plot_w, y_of(v)}, kLight, 1);
    text(img, fmt(v, 0), {left - 8 - text_width(fmt(v, 0)), y_of(v) + 5});
  }
  for (size_t c = 0; c < categories.size(); ++c) {
    const int x0 = left + static_cast<int>(c) * group + gap / 2;
    for (size_t s = 0; s < series.size(); ++s) {
      const double v = series[s].values[c];
      if (std::isnan(v)) continue;
      const int x = x0 + static_cast<int>(s) * bar;
      cv::rectangle(img, {x, y_of(v)}, {x + bar - 2, top + plot_h}, bgr(series_colour(s)),
                    cv::FILLED);
    }
    // Category names below the axis, written upwards so long names fit.
    std::string name = categories[c] + (c < marked.size() && marked[c] ? " *" : "");
    vertical_text(img, name,
                  {x0 + group / 2 - gap / 2, top + plot_h + 10 + (text_width(name) + 4) / 2});
  }
  cv::line(img, {left, top + plot_h}, {left + plot_w, top + plot_h}, kBlack, 1);
  cv::line(img, {left, top}, {left, top + plot_h}, kBlack, 1);
  vertical_text(img, y_label, {16, top + plot_h / 2});
  text(img, title, {left, 22}, 0.55, kBlack, 1);
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  legend(img, names, {left, 46});
  if (!marked_note.empty()) text(img, marked_note, {left + plot_w - text_width(marked_note), 46});
  write_png(path, img);
}

void write_scatter_log2(const std::filesystem::path& path, const std::string& title,
                        const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterGroup>& groups, double threshold,
                        const std::string& threshold_label) {
  double hi = 2;
  for (const auto& g : groups) {
    TC_CHECK(g.x.size() == g.y.size(), path.string(), ": group '", g.name, "' has ", g.x.size(),
             " x and ", g.y.size(), " y values");
    for (size_t i = 0; i < g.x.size(); ++i) hi = std::max({hi, g.x[i], g.y[i]});
  }
  const double top_exp = std::ceil(std::log2(hi));
  const int left = 70, top = 60, side = 420, bottom = 60, right = 30;
  cv::Mat img(top + side + bottom, left + side + right, CV_8UC3, kWhite);
  const auto pos = [&](double v) { return std::log2(std::max(v, 1.0)) / top_exp * side; };
  const auto px = [&](double x) { return left + static_cast<int>(std::lround(pos(x))); };
  const auto py = [&](double y) { return top + side - static_cast<int>(std::lround(pos(y))); };
  for (int e = 0; e <= static_cast<int>(top_exp); ++e) {
    const double v = std::exp2(e);
    cv::line(img, {px(v), top}, {px(v), top + side}, kLight, 1);
    cv::line(img, {left, py(v)}, {left + side, py(v)}, kLight, 1);
    const std::string s = fmt(v, 0);
    text(img, s, {px(v) - text_width(s) / 2, top + side + 18});
    text(img, s, {left - 8 - text_width(s), py(v) + 5});
  }
  cv::line(img, {px(1), py(1)}, {px(hi), py(hi)}, kGrey, 1, cv::LINE_AA);  // y = x
  if (threshold > 0) {
    cv::line(img, {left, py(threshold)}, {left + side, py(threshold)}, kBlack, 1, cv::LINE_AA);
    text(img, threshold_label, {left + 6, py(threshold) - 6});
  }
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t i = 0; i < groups[g].x.size(); ++i)
      cv::circle(img, {px(groups[g].x[i]), py(groups[g].y[i])}, 4, bgr(series_colour(g)), 1,
                 cv::LINE_AA);
  cv::rectangle(img, {left, top}, {left + side, top + side}, kBlack, 1);
  text(img, x_label, {left + side / 2 - text_width(x_label) / 2, top + side + 42});
  vertical_text(img, y_label, {16, top + side / 2});
  text(img, title, {left, 22}, 0.55);
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  legend(img, names, {left, 46});
  write_png(path, img);
}

void write_map_comparison_png(const std::filesystem::path& path, const std::string& caption,
                              const at::Tensor& image, const at::Tensor& gt_mask,
                              const std::vector<MapPanel>& panels, int side) {
  const int64_t H = image.size(1), W = image.size(2);
  for (const auto& p : panels)
    TC_CHECK(p.map.dim() == 2 && p.map.size(0) == H && p.map.size(1) == W, path.string(),
             ": map of '", p.title, "' is ", p.map.sizes(), ": expected [", H, ", ", W,
             "] like the image");
  const auto big = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::resize(m, out, {side, side}, 0, 0, cv::INTER_LINEAR);
    return out;
  };
  const cv::Mat bgr = to_bgr(image);
  const int head = 44, bar_w = 14, bar_gap = 84, pad = 8;
  const int cell_w = side + pad, map_w = side + bar_gap + bar_w + pad;
  cv::Mat img(head + side + 30, 2 * cell_w + static_cast<int>(panels.size()) * map_w + pad, CV_8UC3,
              kWhite);
  const auto place = [&](const cv::Mat& m, int x) { m.copyTo(img(cv::Rect(x, head, side, side))); };
  place(big(bgr), pad);
  text(img, "image", {pad, head - 8});
  const auto mask =
      torch::nn::functional::interpolate(gt_mask.to(torch::kFloat32).view({1, 1, H, W}),
                                         torch::nn::functional::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{side, side})
                                             .mode(torch::kNearest))
          .view({side, side});
  place(with_outline(big(bgr), mask), pad + cell_w);
  text(img, "ground truth", {pad + cell_w, head - 8});
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& p = panels[i];
    const int x = pad + 2 * cell_w + static_cast<int>(i) * map_w;
    const auto map =
        torch::nn::functional::interpolate(p.map.to(torch::kFloat32).view({1, 1, H, W}),
                                           torch::nn::functional::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{side, side})
                                               .mode(torch::kBilinear)
                                               .align_corners(false))
            .view({side, side});
    place(heat_overlay(big(bgr), map, p.vmin, p.vmax), x);
    text(img, p.title + "  score " + short_number(p.score), {x, head - 8}, 0.5);
    // The colour bar: vmax at the top, vmin at the bottom.
    cv::Mat ramp(side, 1, CV_8U);
    for (int r = 0; r < side; ++r)
      ramp.at<uint8_t>(r) = static_cast<uint8_t>(255 - r * 255 / (side - 1));
    cv::Mat jet;
    cv::applyColorMap(ramp, jet, cv::COLORMAP_JET);
    cv::resize(jet, jet, {bar_w, side}, 0, 0, cv::INTER_NEAREST);
    const int bx = x + side + 6;
    jet.copyTo(img(cv::Rect(bx, head, bar_w, side)));
    cv::rectangle(img, {bx, head}, {bx + bar_w - 1, head + side - 1}, kBlack, 1);
    const double mid = (p.vmin + p.vmax) / 2;
    text(img, short_number(p.vmax), {bx + bar_w + 3, head + 10}, 0.38);
    text(img, short_number(mid), {bx + bar_w + 3, head + side / 2 + 4}, 0.38);
    text(img, short_number(p.vmin), {bx + bar_w + 3, head + side}, 0.38);
    if (p.score >= p.vmin && p.score <= p.vmax &&
        p.vmax > p.vmin) {  // the score's place on the bar
      const int y =
          head + side - 1 - static_cast<int>((p.score - p.vmin) / (p.vmax - p.vmin) * (side - 1));
      cv::line(img, {bx - 4, y}, {bx + bar_w + 1, y}, kBlack, 2);
    }
  }
  text(img, caption, {pad, head + side + 22}, 0.45);
  write_png(path, img);
}

}  // namespace tc::eval
