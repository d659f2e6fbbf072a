#include "tailedcore/eval/metrics.h"

#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/core/finite.h"
#include "tailedcore/io/files.h"

namespace tc::eval {
namespace {

struct Sorted {
  std::vector<float> scores;  // descending
  std::vector<uint8_t> labels;
};

Sorted sort_descending(const at::Tensor& scores, const at::Tensor& labels) {
  TC_CHECK(scores.numel() == labels.numel(), "metrics: ", scores.numel(), " scores but ",
           labels.numel(), " labels");
  const auto s = scores.flatten().to(torch::kFloat32).contiguous();
  // A NaN has no place in a ranking (and would end no run of ties).
  const int64_t bad = core::first_nonfinite_row(s);
  TC_CHECK(bad < 0, "metrics: score ", bad, " of ", s.numel(), " is ", s[bad].item<float>(),
           ": expected finite scores");
  const auto [vals, order] = s.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  const auto l = labels.flatten().to(torch::kUInt8).index_select(0, order).contiguous();
  Sorted out;
  out.scores.assign(vals.data_ptr<float>(), vals.data_ptr<float>() + vals.numel());
  out.labels.assign(l.data_ptr<uint8_t>(), l.data_ptr<uint8_t>() + l.numel());
  return out;
}

}  // namespace

double auroc(const at::Tensor& scores, const at::Tensor& labels) {
  const auto s = sort_descending(scores, labels);
  double pos = 0, neg = 0;
  for (uint8_t l : s.labels) (l ? pos : neg) += 1;
  if (pos == 0 || neg == 0) return NAN;
  // Walk thresholds from high to low; tied scores form one ROC step (trapezoid).
  double tp = 0, fp = 0, area = 0;
  for (size_t i = 0; i < s.scores.size();) {
    double dtp = 0, dfp = 0;
    size_t j = i;
    do (s.labels[j] ? dtp : dfp) += 1;  // j = i always counts: no NaN can stall the walk
    while (++j < s.scores.size() && s.scores[j] == s.scores[i]);
    area += dfp * (tp + dtp / 2);
    tp += dtp;
    fp += dfp;
    i = j;
  }
  return area / (pos * neg);
}

double f1_max(const at::Tensor& scores, const at::Tensor& labels) {
  const auto s = sort_descending(scores, labels);
  double pos = 0;
  for (uint8_t l : s.labels) pos += l;
  if (pos == 0) return NAN;
  double tp = 0, fp = 0, best = 0;
  for (size_t i = 0; i < s.scores.size();) {
    size_t j = i;
    do (s.labels[j] ? tp : fp) += 1;  // j = i always counts: no NaN can stall the walk
    while (++j < s.scores.size() && s.scores[j] == s.scores[i]);
    const double precision = tp / (tp + fp), recall = tp / pos;
    if (tp > 0) best = std::max(best, 2 * precision * recall / (precision + recall));
    i = j;
  }
  return best;
}

double aupro(const at::Tensor& maps_in, const at::Tensor& masks_in, double max_fpr) {
  TC_CHECK(maps_in.sizes() == masks_in.sizes() && maps_in.dim() == 3, "aupro: maps ",
           maps_in.sizes(), " and masks ", masks_in.sizes(), " must both be [n, H, W]");
  const auto maps = maps_in.to(torch::kFloat32).contiguous();
  const int64_t bad = core::first_nonfinite_row(maps);
  TC_CHECK(bad < 0, "aupro: anomaly map ", bad, " of ", maps.size(0),
           " has a NaN or Inf value: expected finite scores");
  const auto masks = masks_in.to(torch::kUInt8).contiguous();
  const int64_t n = maps.size(0), H = maps.size(1), W = maps.size(2), P = n * H * W;
  // Per pixel: how much it moves the FPR (normal pixels) or the PRO (region pixels).
  std::vector<int32_t> region(P, -1);
  std::vector<double> region_size;
  int64_t normal = 0;
  for (int64_t k = 0; k < n; ++k) {
    cv::Mat m(static_cast<int>(H), static_cast<int>(W), CV_8U, masks[k].data_ptr<uint8_t>());
    cv::Mat labels;
    const int count = cv::connectedComponents(m > 0, labels, 8, CV_32S);
    const int base = static_cast<int>(region_size.size());
    region_size.resize(base + count - 1, 0.0);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int l = labels.at<int>(static_cast<int>(y), static_cast<int>(x));
        if (l > 0) {
          region[(k * H + y) * W + x] = base + l - 1;
          region_size[base + l - 1] += 1;
        } else {
          ++normal;
        }
      }
  }
  if (region_size.empty() || normal == 0) return NAN;
  const double regions = static_cast<double>(region_size.size());
  const auto [vals, order] = maps.flatten().sort(true, 0, true);
  const float* v = vals.data_ptr<float>();
  const int64_t* o = order.data_ptr<int64_t>();
  // The curve (FPR, PRO) at every distinct threshold, integrated up to max_fpr.
  double fpr = 0, pro = 0, area = 0, prev_fpr = 0, prev_pro = 0;
  for (int64_t i = 0; i < P;) {
    int64_t j = i;
    do {  // j = i always counts: no NaN can stall the walk
      const int32_t r = region[o[j]];
      if (r < 0)
        fpr += 1.0 / normal;
      else
        pro += 1.0 / (region_size[r] * regions);
    } while (++j < P && v[j] == v[i]);
    if (fpr >= max_fpr) {
      // Interpolate the segment to max_fpr and stop.
      const double t = fpr > prev_fpr ? (max_fpr - prev_fpr) / (fpr - prev_fpr) : 0.0;
      const double pro_at = prev_pro + t * (pro - prev_pro);
      area += (max_fpr - prev_fpr) * (prev_pro + pro_at) / 2;
      return area / max_fpr;
    }
    area += (fpr - prev_fpr) * (prev_pro + pro) / 2;
    prev_fpr = fpr;
    prev_pro = pro;
    i = j;
  }
  return area / max_fpr;
}

namespace {

std::string join_reasons(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

}  // namespace

ClassMetrics evaluate_class(const std::string& name, const at::Tensor& image_scores,
                            const at::Tensor& labels, const at::Tensor& maps,
                            const at::Tensor& masks) {
  ClassMetrics m;
  m.class_name = name;
  m.n_images = image_scores.numel();
  m.image_auroc = 100 * auroc(image_scores, labels);
  m.image_f1_max = 100 * f1_max(image_scores, labels);
  m.pixel_auroc = 100 * auroc(maps, masks);
  m.pixel_f1_max = 100 * f1_max(maps, masks);
  m.aupro = 100 * aupro(maps, masks);
  // The reasons a metric is NaN, from the same counts the metrics see.
  const int64_t defective = labels.to(torch::kInt64).sum().item<int64_t>();
  const int64_t pixels = masks.numel();
  const int64_t defect_pixels = (masks.to(torch::kUInt8) > 0).sum().item<int64_t>();
  std::vector<std::string> reasons;
  if (defective == 0)
    reasons.push_back("image AUROC and image F1-max undefined: all " + std::to_string(m.n_images) +
                      " test images are good (no defective image)");
  else if (defective == m.n_images)
    reasons.push_back("image AUROC undefined: all " + std::to_string(m.n_images) +
                      " test images are defective (no good image)");
  if (defect_pixels == 0)
    reasons.push_back(
        "pixel AUROC, AUPRO and pixel F1-max undefined: no mask pixel marks a defect"
        " (a defect is a mask pixel of 255; masks of 0/1 or grey values read as empty)");
  else if (defect_pixels == pixels)
    reasons.push_back("pixel AUROC and AUPRO undefined: every mask pixel marks a defect");
  m.undefined = join_reasons(reasons);
  return m;
}

DefinedMean mean_of_defined(const std::vector<double>& values) {
  DefinedMean r;
  double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) {
      ++r.left_out;
    } else {
      sum += v;
      ++r.used;
    }
  }
  r.mean = r.used ? sum / static_cast<double>(r.used) : NAN;
  return r;
}

void write_metrics_csv(const std::filesystem::path& path, const std::vector<ClassMetrics>& rows) {
  std::ostringstream os;
  os << "class,image_auroc,pixel_auroc,aupro,image_f1_max,pixel_f1_max,n_images\n";
  os << std::setprecision(6);
  std::vector<double> columns[5];
  int64_t images = 0;
  for (const auto& r : rows) {
    const double v[5] = {r.image_auroc, r.pixel_auroc, r.aupro, r.image_f1_max, r.pixel_f1_max};
    os << core::csv_field(r.class_name);
    for (int i = 0; i < 5; ++i) {
      os << "," << v[i];
      columns[i].push_back(v[i]);
    }
    os << "," << r.n_images << "\n";
    images += r.n_images;
  }
  os << "mean";
  for (const auto& column : columns) os << "," << mean_of_defined(column).mean;
  os << "," << images << "\n";
  io::write_text_atomic(path, os.str());
}

}  // namespace tc::eval
