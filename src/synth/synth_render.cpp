// Rendering of one synthetic image: the class's style with per-image jitter and
// sensor noise, then (for defective samples) a defect painted into a region that
// becomes the mask. The mask is exactly the set of pixels the defect changed:
// pixels outside it are copied from the clean render, and any pixel inside it
// that the paint left equal to the clean value is pushed away from it.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "synth_style.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/hash.h"
#include "tailedcore/synth/synth.h"

namespace tc::synth {
namespace {

using draw::Rgb;
using draw::Rng;
using draw::Shape;
using draw::Style;
using draw::Texture;

enum DefectKind { kScratch = 0, kCrack = 1, kHole = 2, kStain = 3, kMissing = 4 };
constexpr int kDefectKinds = 5;
constexpr double kNoiseSigma = 3.0;  // sensor noise, 8-bit levels

bool contains_any(const std::string& name, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (name.find(k) != std::string::npos) return true;
  return false;
}

// A defect family that looks like the folder's name (MVTec's names), in order
// of precedence; VisA's single "anomaly" cycles through all families.
int defect_kind(const std::string& name, int item) {
  if (name == "anomaly") return item % kDefectKinds;
  if (contains_any(
          name, {"missing", "broken", "swap", "misplaced", "flip", "pill_type", "cut_lead", "split",
                 "squeez", "bent", "fold", "manipulated", "defective", "damaged"}))
    return kMissing;
  if (contains_any(name, {"hole", "poke"})) return kHole;
  if (contains_any(name, {"crack", "rough", "fabric"})) return kCrack;
  if (contains_any(name, {"scratch", "cut", "thread"})) return kScratch;
  if (contains_any(name, {"color", "contamination", "oil", "glue", "liquid", "stain", "print",
                          "stroke", "combined"}))
    return kStain;
  return static_cast<int>(core::fnv1a(name) % kDefectKinds);
}

double luminance(const Rgb& c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; }

Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

// Per-image variation: object pose, texture phase, exposure.
struct Jitter {
  double cos_r = 1, sin_r = 0;  // object (and texture) rotation
  double dx = 0, dy = 0;        // object shift, half sides
  double pu = 0, pv = 0;        // texture phase
  double gain = 1;
  Rgb tint;
};

class Painter {
 public:
  Painter(const Style& style, int size, uint64_t salt, const Jitter& jitter)
      : s_(style), half_(size / 2.0), salt_(salt), j_(jitter) {
    const double bg = s_.bg_angle_deg * M_PI / 180.0, fg = s_.fg_angle_deg * M_PI / 180.0;
    bg_cos_ = std::cos(bg) * j_.cos_r - std::sin(bg) * j_.sin_r;
    bg_sin_ = std::sin(bg) * j_.cos_r + std::cos(bg) * j_.sin_r;
    fg_cos_ = std::cos(fg);
    fg_sin_ = std::sin(fg);
  }

  /// The noise-free colour at pixel (x, y); `with_object` false renders the
  /// background only (what a missing part uncovers). `on_object` reports
  /// whether the object covers the pixel.
  Rgb colour(int x, int y, bool with_object, bool* on_object = nullptr) const {
    const double px = (x + 0.5) / half_ - 1.0, py = (y + 0.5) / half_ - 1.0;
    const double u = bg_cos_ * px + bg_sin_ * py + j_.pu, v = -bg_sin_ * px + bg_cos_ * py + j_.pv;
    Rgb c = mix(s_.bg0, s_.bg1, draw::texture_value(s_.bg_texture, u, v, s_.bg_scale, salt_));
    // Object frame: undo the shift, then the rotation.
    const double sx = px - j_.dx, sy = py - j_.dy;
    const double qx = j_.cos_r * sx + j_.sin_r * sy, qy = -j_.sin_r * sx + j_.cos_r * sy;
    double t = 0;
    const bool inside = object_at(qx, qy, &t);
    if (on_object) *on_object = inside;
    if (inside && with_object) {
      const double fu = fg_cos_ * qx + fg_sin_ * qy, fv = -fg_sin_ * qx + fg_cos_ * qy;
      if (s_.shape != Shape::kMulti || s_.fg_texture != Texture::kFlat)
        t = draw::texture_value(s_.fg_texture, fu, fv, s_.fg_scale, salt_ + 17);
      const double extent = std::max(s_.w, s_.h);
      const double shade = 1.0 - 0.15 * std::min(1.0, (qx * qx + qy * qy) / (extent * extent));
      const Rgb f = mix(s_.fg0, s_.fg1, t);
      c = {f.r * shade, f.g * shade, f.b * shade};
    }
    return {c.r * j_.gain + j_.tint.r, c.g * j_.gain + j_.tint.g, c.b * j_.gain + j_.tint.b};
  }

  /// The flat colour a missing part of a texture-only class is erased to.
  Rgb erased() const {
    const Rgb c = mix(s_.bg0, s_.bg1, 0.5);
    return {c.r * j_.gain + j_.tint.r, c.g * j_.gain + j_.tint.g, c.b * j_.gain + j_.tint.b};
  }

 private:
  // Inside test in the object frame; *t gets the colour index of kMulti's discs.
  bool object_at(double qx, double qy, double* t) const {
    switch (s_.shape) {
      case Shape::kNone:
        return false;
      case Shape::kDisc:
        return qx * qx + qy * qy < s_.w * s_.w;
      case Shape::kEllipse:
        return (qx / s_.w) * (qx / s_.w) + (qy / s_.h) * (qy / s_.h) < 1.0;
      case Shape::kCapsule: {
        const double ex = std::max(0.0, std::fabs(qx) - (s_.w - s_.h));
        return ex * ex + qy * qy < s_.h * s_.h;
      }
      case Shape::kPolygon: {
        const double r = std::sqrt(qx * qx + qy * qy);
        if (r < s_.hole * s_.w) return false;
        const double sector = 2.0 * M_PI / s_.sides;
        double a = std::atan2(qy, qx);
        a = a - sector * std::floor(a / sector);
        return r < s_.w * std::cos(M_PI / s_.sides) / std::cos(a - M_PI / s_.sides);
      }
      case Shape::kRect:
        return std::fabs(qx) < s_.w && std::fabs(qy) < s_.h;
      case Shape::kMulti:
        for (int k = 0; k < s_.sides; ++k) {
          const double a = 2.0 * M_PI * k / s_.sides;
          const double cx = qx - s_.w * std::cos(a), cy = qy - s_.w * std::sin(a);
          if (cx * cx + cy * cy < s_.h * s_.h) {
            *t = k % 2;
            return true;
          }
        }
        return false;
    }
    return false;
  }

  const Style& s_;
  double half_;
  uint64_t salt_;
  Jitter j_;
  double bg_cos_, bg_sin_, fg_cos_, fg_sin_;
};

// Channel values of a colour: BGR for 3-channel images, luminance for 1-channel.
void to_channels(const Rgb& c, int channels, double out[3]) {
  if (channels == 1) {
    out[0] = luminance(c);
  } else {
    out[0] = c.b;
    out[1] = c.g;
    out[2] = c.r;
  }
}

uchar to_byte(double v) { return static_cast<uchar>(std::clamp(std::lround(v), 0L, 255L)); }

void put(cv::Mat& img, int x, int y, const double v[3]) {
  uchar* p = img.ptr<uchar>(y) + x * img.channels();
  for (int k = 0; k < img.channels(); ++k) p[k] = to_byte(v[k]);
}

void get(const cv::Mat& img, int x, int y, double v[3]) {
  const uchar* p = img.ptr<uchar>(y) + x * img.channels();
  for (int k = 0; k < img.channels(); ++k) v[k] = p[k];
}

double pixel_luminance(const cv::Mat& img, int x, int y) {
  double v[3];
  get(img, x, y, v);
  return img.channels() == 1 ? v[0] : 0.114 * v[0] + 0.587 * v[1] + 0.299 * v[2];
}

// A defect centre: on the object for object classes (so a missing part removes
// something), anywhere away from the border for textures.
cv::Point defect_centre(Rng& rng, const cv::Mat& object, bool has_object) {
  const int size = object.cols;
  const int lo = size / 5, hi = size - size / 5;
  for (int attempt = 0; attempt < 500; ++attempt) {
    const cv::Point p(lo + rng.below(std::max(1, hi - lo)), lo + rng.below(std::max(1, hi - lo)));
    if (!has_object || object.at<uchar>(p)) return p;
  }
  return {size / 2, size / 2};
}

cv::Point step(cv::Point2d& p, double angle, double length) {
  p += cv::Point2d(length * std::cos(angle), length * std::sin(angle));
  return cv::Point(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
}

}  // namespace

int synth_image_size(const SynthLayout& layout, int class_index, int size) {
  TC_CHECK_RANGE(class_index, 0, static_cast<int>(layout.classes.size()) - 1, "class index");
  if (size > 0) return size;
  if (size == kSynthSizeFull) {
    TC_CHECK(layout.has_full, "--size full: layout '", layout.name,
             "' has no known full resolution: expected --size N");
    return layout.classes[class_index].full_size;
  }
  return layout.default_size > 0 ? layout.default_size : layout.classes[class_index].full_size;
}

SynthSample render_synthetic(const SynthLayout& layout, int class_index, const std::string& split,
                             const std::string& category, int item, int size, uint64_t seed) {
  TC_CHECK_RANGE(class_index, 0, static_cast<int>(layout.classes.size()) - 1, "class index");
  TC_CHECK_RANGE(size, kSynthMinSize, kSynthMaxSize, "size");
  const SynthClass& cls = layout.classes[class_index];
  int defect_index = -1;
  for (size_t k = 0; k < cls.defects.size(); ++k)
    if (cls.defects[k].name == category) defect_index = static_cast<int>(k);
  TC_CHECK(category == "good" || defect_index >= 0, "category '", category, "' is not a defect of ",
           layout.name, "/", cls.name);

  const Style style = draw::style_for(layout.name, cls.name);
  const uint64_t key = draw::mix64(seed ^ core::fnv1a(layout.name + "/" + cls.name + "/" + split +
                                                      "/" + category + "/" + std::to_string(item)));
  Rng jitter_rng(draw::mix64(key + 1)), noise_rng(draw::mix64(key + 2)),
      fill_rng(draw::mix64(key + 3)), geometry_rng(draw::mix64(key + 4));

  Jitter jitter;
  const double rotation = jitter_rng.uniform(-1, 1) * style.max_rotation_deg * M_PI / 180.0;
  jitter.cos_r = std::cos(rotation);
  jitter.sin_r = std::sin(rotation);
  jitter.dx = jitter_rng.uniform(-1, 1) * style.max_shift;
  jitter.dy = jitter_rng.uniform(-1, 1) * style.max_shift;
  jitter.pu = jitter_rng.uniform(0, 64);
  jitter.pv = jitter_rng.uniform(0, 64);
  jitter.gain = jitter_rng.uniform(0.94, 1.06);
  jitter.tint = {jitter_rng.uniform(-4, 4), jitter_rng.uniform(-4, 4), jitter_rng.uniform(-4, 4)};
  const Painter painter(style, size, core::fnv1a(layout.name + "/" + cls.name), jitter);

  const int channels = cls.channels;
  const int type = channels == 1 ? CV_8UC1 : CV_8UC3;
  SynthSample out;
  out.clean.create(size, size, type);
  cv::Mat object = cv::Mat::zeros(size, size, CV_8UC1);
  double v[3];
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      bool on = false;
      to_channels(painter.colour(x, y, true, &on), channels, v);
      for (int k = 0; k < channels; ++k) v[k] += kNoiseSigma * noise_rng.normal();
      put(out.clean, x, y, v);
      object.at<uchar>(y, x) = on ? 255 : 0;
    }
  }
  out.mask = cv::Mat::zeros(size, size, CV_8UC1);
  if (defect_index < 0) {
    out.image = out.clean;
    return out;
  }

  // --- the defect region ---------------------------------------------------
  const int kind = defect_kind(category, item);
  out.defect_kind = kind;
  const bool has_object = style.shape != Shape::kNone;
  const double side = size;
  const double scale = 0.8 + 0.2 * (defect_index % 3);  // same family, different sizes per folder
  cv::Mat& region = out.mask;
  const cv::Point centre = defect_centre(geometry_rng, object, has_object);
  cv::Point2d pen(centre);
  switch (kind) {
    case kScratch: {
      const int thickness = std::max(1, static_cast<int>(std::lround(side / 128.0)));
      double angle = geometry_rng.uniform(0, 2 * M_PI);
      cv::Point from = centre;
      for (int segments = 1 + geometry_rng.below(3); segments > 0; --segments) {
        angle += geometry_rng.uniform(-0.7, 0.7);
        const cv::Point to = step(pen, angle, side * geometry_rng.uniform(0.12, 0.28) * scale);
        cv::line(region, from, to, 255, thickness, cv::LINE_8);
        from = to;
      }
      break;
    }
    case kCrack: {
      const int thickness = std::max(1, static_cast<int>(std::lround(side / 256.0)));
      double angle = geometry_rng.uniform(0, 2 * M_PI);
      cv::Point from = centre;
      for (int steps = 6 + geometry_rng.below(7); steps > 0; --steps) {
        angle += geometry_rng.uniform(-1.1, 1.1);
        const cv::Point to = step(pen, angle, std::max(1.5, side * 0.035 * scale));
        cv::line(region, from, to, 255, thickness, cv::LINE_8);
        from = to;
      }
      break;
    }
    case kHole: {
      const int radius = std::max(
          1, static_cast<int>(std::lround(side * geometry_rng.uniform(0.035, 0.07) * scale)));
      cv::circle(region, centre, radius, 255, cv::FILLED, cv::LINE_8);
      break;
    }
    case kStain: {
      for (int blobs = 2 + geometry_rng.below(3); blobs > 0; --blobs) {
        const cv::Point c(centre.x + static_cast<int>(side * geometry_rng.uniform(-0.06, 0.06)),
                          centre.y + static_cast<int>(side * geometry_rng.uniform(-0.06, 0.06)));
        const cv::Size axes(
            std::max(1, static_cast<int>(side * geometry_rng.uniform(0.03, 0.08) * scale)),
            std::max(1, static_cast<int>(side * geometry_rng.uniform(0.03, 0.08) * scale)));
        cv::ellipse(region, c, axes, geometry_rng.uniform(0, 180), 0, 360, 255, cv::FILLED,
                    cv::LINE_8);
      }
      break;
    }
    case kMissing: {
      const cv::Size axes(
          std::max(1, static_cast<int>(side * geometry_rng.uniform(0.08, 0.16) * scale)),
          std::max(1, static_cast<int>(side * geometry_rng.uniform(0.08, 0.16) * scale)));
      cv::ellipse(region, centre, axes, geometry_rng.uniform(0, 180), 0, 360, 255, cv::FILLED,
                  cv::LINE_8);
      // Only the object can go missing: outside it nothing would change.
      if (has_object) cv::bitwise_and(region, object, region);
      break;
    }
  }
  // Lines and holes stay on the object (a stain may spill over, a missing part
  // is clipped above).
  if (has_object && (kind == kScratch || kind == kCrack || kind == kHole))
    cv::bitwise_and(region, object, region);
  region.at<uchar>(centre) = 255;  // never empty, whatever the rounding at tiny sizes

  // --- the paint ---------------------------------------------------------------
  const bool bright_spot = pixel_luminance(out.clean, centre.x, centre.y) > 110;
  static const Rgb kDarkStains[] = {{150, 30, 30}, {30, 60, 150}, {40, 110, 40}};
  static const Rgb kLightStains[] = {{240, 200, 60}, {90, 220, 240}, {250, 140, 200}};
  const Rgb stain =
      bright_spot ? kDarkStains[geometry_rng.below(3)] : kLightStains[geometry_rng.below(3)];
  const double hole_radius = std::max(1.0, std::sqrt(cv::countNonZero(region) / M_PI));
  out.image = out.clean.clone();
  double c[3], paint[3];
  for (int y = 0; y < size; ++y) {
    const uchar* m = region.ptr<uchar>(y);
    for (int x = 0; x < size; ++x) {
      if (!m[x]) continue;
      get(out.clean, x, y, c);
      switch (kind) {
        case kScratch:
        case kCrack: {
          // Contrast with each pixel, not the centre: a line crosses dark and light parts.
          const bool bright = pixel_luminance(out.clean, x, y) > 110;
          const double target = bright ? (kind == kCrack ? 15 : 35) : 225;
          const double keep = kind == kCrack ? 0.1 : 0.15;
          for (int k = 0; k < channels; ++k)
            paint[k] = keep * c[k] + (1 - keep) * target + kNoiseSigma * fill_rng.normal();
          break;
        }
        case kHole: {
          const double d = std::hypot(x - centre.x, y - centre.y) / hole_radius;
          const double target =
              bright_spot ? 10 + 30 * std::min(1.0, d) : 215 - 30 * std::min(1.0, d);
          for (int k = 0; k < channels; ++k) paint[k] = target + kNoiseSigma * fill_rng.normal();
          break;
        }
        case kStain: {
          double s[3];
          to_channels(stain, channels, s);
          for (int k = 0; k < channels; ++k) paint[k] = 0.4 * c[k] + 0.6 * s[k];
          break;
        }
        case kMissing: {
          to_channels(has_object ? painter.colour(x, y, false) : painter.erased(), channels, paint);
          for (int k = 0; k < channels; ++k) paint[k] += kNoiseSigma * fill_rng.normal();
          break;
        }
      }
      bool same = true;
      for (int k = 0; k < channels; ++k) same = same && to_byte(paint[k]) == to_byte(c[k]);
      if (same)  // the paint happened to match: push it away so the mask stays exact
        for (int k = 0; k < channels; ++k) paint[k] = c[k] < 128 ? c[k] + 48 : c[k] - 48;
      put(out.image, x, y, paint);
    }
  }
  return out;
}

}  // namespace tc::synth
