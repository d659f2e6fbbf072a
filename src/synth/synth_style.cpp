// Randomness, textures and the per-class styles of the synthetic data sets.
#include "synth_style.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>

#include "tailedcore/core/hash.h"

namespace tc::synth::draw {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rng::next() { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  uint64_t bits = next();
  int sum = 0;
  for (int k = 0; k < 8; ++k, bits >>= 8) sum += static_cast<int>(bits & 0xff);
  // 8 uniform bytes: mean 8 * 127.5, variance 8 * (256^2 - 1) / 12.
  return (sum - 1020.0) / 209.0223;
}

namespace {

// Value noise: a random value per lattice point, smoothly interpolated.
double lattice(int64_t ix, int64_t iy, uint64_t salt) {
  const uint64_t h = mix64(
      salt ^ mix64(static_cast<uint64_t>(ix) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(iy)));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double smooth(double t) { return t * t * (3.0 - 2.0 * t); }

double value_noise(double x, double y, uint64_t salt) {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const double tx = smooth(x - fx), ty = smooth(y - fy);
  const double a = lattice(ix, iy, salt), b = lattice(ix + 1, iy, salt);
  const double c = lattice(ix, iy + 1, salt), d = lattice(ix + 1, iy + 1, salt);
  return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
}

// Three octaves, normalised back to [0, 1].
double fractal_noise(double x, double y, uint64_t salt) {
  return (4.0 * value_noise(x, y, salt) + 2.0 * value_noise(2 * x, 2 * y, salt + 1) +
          value_noise(4 * x, 4 * y, salt + 2)) /
         7.0;
}

double frac(double x) { return x - std::floor(x); }

}  // namespace

double texture_value(Texture texture, double u, double v, double scale, uint64_t salt) {
  switch (texture) {
    case Texture::kFlat:
      return 0.0;
    case Texture::kStripes:
      return 0.5 + 0.5 * std::sin(2.0 * M_PI * u / scale);
    case Texture::kChecker:
      return static_cast<double>((static_cast<int64_t>(std::floor(u / scale)) +
                                  static_cast<int64_t>(std::floor(v / scale))) &
                                 1);
    case Texture::kNoise:
      return fractal_noise(u / scale, v / scale, salt);
    case Texture::kGrain: {
      const double warp = 1.6 * fractal_noise(u / (4 * scale), v / scale, salt);
      return 0.5 + 0.5 * std::sin(2.0 * M_PI * (v / scale + warp));
    }
    case Texture::kGrid: {
      const double du = std::fabs(frac(u / scale) - 0.5), dv = std::fabs(frac(v / scale) - 0.5);
      return std::max(du, dv) > 0.4 ? 1.0 : 0.0;
    }
    case Texture::kDots: {
      const double du = frac(u / scale) - 0.5, dv = frac(v / scale) - 0.5;
      return du * du + dv * dv < 0.06 ? 1.0 : 0.0;
    }
    case Texture::kWeave:
      return std::clamp(
          0.5 + 0.3 * std::sin(2.0 * M_PI * u / scale) * std::sin(2.0 * M_PI * v / scale) +
              0.4 * (fractal_noise(u / scale, v / scale, salt) - 0.5),
          0.0, 1.0);
    case Texture::kBlotch: {
      const double n = fractal_noise(u / scale, v / scale, salt);
      return std::clamp((n - 0.45) * 10.0, 0.0, 1.0);
    }
    case Texture::kRadial:
      return 0.5 + 0.5 * std::cos(2.0 * M_PI * std::sqrt(u * u + v * v) / scale);
    case Texture::kHalves:
      return u < 0 ? 0.0 : 1.0;
  }
  return 0.0;
}

namespace {

Rgb rgb(double r, double g, double b) { return {r, g, b}; }
Rgb grey(double v) { return {v, v, v}; }

Style texture_style(Texture t, double scale, Rgb c0, Rgb c1, double angle = 0) {
  Style s;
  s.bg_texture = t;
  s.bg_scale = scale;
  s.bg_angle_deg = angle;
  s.bg0 = c0;
  s.bg1 = c1;
  return s;
}

Style object_style(Rgb background, Shape shape, double w, double h, Texture fg, double fg_scale,
                   Rgb f0, Rgb f1, double max_rotation_deg) {
  Style s;
  s.bg0 = s.bg1 = background;
  s.shape = shape;
  s.w = w;
  s.h = h;
  s.fg_texture = fg;
  s.fg_scale = fg_scale;
  s.fg0 = f0;
  s.fg1 = f1;
  s.max_rotation_deg = max_rotation_deg;
  return s;
}

std::map<std::string, Style> mvtec_styles() {
  std::map<std::string, Style> m;
  m["bottle"] = object_style(grey(18), Shape::kDisc, 0.8, 0.8, Texture::kRadial, 0.22,
                             rgb(55, 38, 22), rgb(135, 100, 62), 180);
  m["cable"] = object_style(grey(45), Shape::kMulti, 0.42, 0.3, Texture::kFlat, 0.2,
                            rgb(40, 150, 60), rgb(50, 80, 180), 4);
  m["cable"].sides = 3;
  m["capsule"] = object_style(rgb(205, 205, 198), Shape::kCapsule, 0.75, 0.27, Texture::kHalves,
                              0.2, rgb(28, 28, 28), rgb(235, 150, 40), 3);
  m["carpet"] = texture_style(Texture::kWeave, 0.08, rgb(115, 95, 85), rgb(175, 150, 130));
  m["grid"] = texture_style(Texture::kGrid, 0.22, grey(70), grey(195), 8);
  m["hazelnut"] = object_style(grey(14), Shape::kEllipse, 0.62, 0.5, Texture::kNoise, 0.15,
                               rgb(105, 65, 32), rgb(175, 122, 70), 180);
  m["leather"] = texture_style(Texture::kNoise, 0.05, rgb(105, 62, 38), rgb(155, 98, 62));
  m["metal_nut"] = object_style(grey(25), Shape::kPolygon, 0.72, 0.72, Texture::kNoise, 0.3,
                                rgb(135, 135, 148), rgb(195, 195, 205), 180);
  m["metal_nut"].hole = 0.42;
  m["pill"] = object_style(rgb(45, 32, 30), Shape::kEllipse, 0.78, 0.36, Texture::kDots, 0.09,
                           rgb(238, 232, 226), rgb(195, 62, 50), 2);
  m["screw"] = object_style(grey(228), Shape::kRect, 0.66, 0.09, Texture::kStripes, 0.06, grey(65),
                            grey(125), 180);
  m["tile"] = texture_style(Texture::kBlotch, 0.25, rgb(205, 203, 196), rgb(88, 90, 102));
  m["toothbrush"] = object_style(grey(20), Shape::kRect, 0.34, 0.82, Texture::kStripes, 0.05,
                                 rgb(232, 232, 238), rgb(60, 110, 205), 2);
  m["transistor"] = object_style(rgb(200, 190, 168), Shape::kRect, 0.42, 0.34, Texture::kFlat, 0.2,
                                 grey(25), grey(25), 3);
  m["wood"] = texture_style(Texture::kGrain, 0.13, rgb(148, 98, 58), rgb(205, 152, 100));
  Style zipper = object_style(grey(0), Shape::kRect, 0.26, 1.5, Texture::kStripes, 0.09, grey(45),
                              grey(200), 1);
  zipper.bg_texture = Texture::kWeave;
  zipper.bg_scale = 0.05;
  zipper.bg0 = grey(95);
  zipper.bg1 = grey(140);
  zipper.fg_angle_deg = 90;
  m["zipper"] = zipper;
  return m;
}

std::map<std::string, Style> visa_styles() {
  std::map<std::string, Style> m;
  m["candle"] = object_style(grey(32), Shape::kMulti, 0.5, 0.32, Texture::kFlat, 0.2,
                             rgb(236, 230, 220), rgb(210, 205, 190), 3);
  m["candle"].sides = 4;
  m["capsules"] = object_style(grey(20), Shape::kMulti, 0.52, 0.18, Texture::kFlat, 0.2,
                               rgb(90, 200, 120), rgb(60, 165, 100), 20);
  m["capsules"].sides = 5;
  m["cashew"] = object_style(grey(42), Shape::kEllipse, 0.7, 0.45, Texture::kNoise, 0.2,
                             rgb(212, 172, 112), rgb(178, 138, 88), 10);
  m["chewinggum"] = object_style(rgb(30, 30, 36), Shape::kCapsule, 0.6, 0.45, Texture::kNoise, 0.3,
                                 rgb(236, 236, 230), rgb(215, 215, 208), 5);
  m["fryum"] = object_style(rgb(60, 140, 80), Shape::kPolygon, 0.62, 0.62, Texture::kNoise, 0.15,
                            rgb(232, 192, 112), rgb(205, 160, 80), 180);
  m["fryum"].sides = 12;
  m["fryum"].hole = 0.35;
  m["macaroni1"] = object_style(rgb(190, 172, 142), Shape::kMulti, 0.5, 0.2, Texture::kNoise, 0.2,
                                rgb(242, 222, 162), rgb(225, 200, 140), 5);
  m["macaroni1"].sides = 4;
  Style macaroni2 = m["macaroni1"];
  macaroni2.bg_texture = Texture::kNoise;
  macaroni2.bg_scale = 0.08;
  macaroni2.bg0 = rgb(55, 88, 58);
  macaroni2.bg1 = rgb(95, 125, 92);
  m["macaroni2"] = macaroni2;
  auto pcb = [](Texture t, double scale, Rgb b0, Rgb b1, Shape shape, double w, double h, Rgb f) {
    Style s = object_style(b0, shape, w, h, Texture::kFlat, 0.2, f, f, 2);
    s.bg_texture = t;
    s.bg_scale = scale;
    s.bg1 = b1;
    return s;
  };
  m["pcb1"] = pcb(Texture::kGrid, 0.25, rgb(20, 92, 42), rgb(182, 142, 62), Shape::kRect, 0.26,
                  0.26, grey(22));
  m["pcb2"] =
      pcb(Texture::kGrid, 0.15, rgb(20, 60, 30), grey(200), Shape::kDisc, 0.3, 0.3, grey(232));
  m["pcb3"] = pcb(Texture::kStripes, 0.1, rgb(30, 100, 52), rgb(200, 170, 82), Shape::kRect, 0.46,
                  0.2, grey(30));
  m["pcb4"] = pcb(Texture::kChecker, 0.2, rgb(150, 30, 30), grey(40), Shape::kDisc, 0.36, 0.36,
                  rgb(202, 202, 62));
  m["pipe_fryum"] = object_style(rgb(40, 100, 60), Shape::kCapsule, 0.76, 0.22, Texture::kStripes,
                                 0.08, rgb(232, 182, 82), rgb(200, 150, 60), 3);
  return m;
}

std::map<std::string, Style> small_styles() {
  std::map<std::string, Style> m;
  m["checker"] = texture_style(Texture::kChecker, 0.25, rgb(40, 70, 160), grey(230));
  m["disc"] = object_style(grey(35), Shape::kDisc, 0.6, 0.6, Texture::kNoise, 0.2,
                           rgb(230, 120, 30), rgb(250, 165, 60), 180);
  m["grain"] = texture_style(Texture::kGrain, 0.12, rgb(150, 100, 60), rgb(205, 150, 95));
  m["mesh"] = texture_style(Texture::kGrid, 0.18, grey(40), grey(200), 4);
  m["speckle"] = texture_style(Texture::kNoise, 0.06, rgb(30, 120, 60), rgb(120, 210, 120));
  m["stripes"] = texture_style(Texture::kStripes, 0.12, rgb(190, 40, 40), rgb(245, 220, 210), 30);
  return m;
}

}  // namespace

Style style_for(const std::string& layout, const std::string& class_name) {
  static const auto mvtec = mvtec_styles(), visa = visa_styles(), small = small_styles();
  const auto& table = layout == "mvtec" ? mvtec : layout == "visa" ? visa : small;
  const auto it = table.find(class_name);
  if (it != table.end()) return it->second;
  // A name without a hand-made look: one of the small styles, recoloured by the hash.
  Rng rng(core::fnv1a(class_name));
  auto it2 = small.begin();
  std::advance(it2, rng.below(static_cast<int>(small.size())));
  Style s = it2->second;
  s.bg0 = rgb(rng.uniform(20, 235), rng.uniform(20, 235), rng.uniform(20, 235));
  return s;
}

}  // namespace tc::synth::draw
