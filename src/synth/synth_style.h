// Internal to the synthetic data generator: deterministic randomness and the
// procedural look of each class (a background texture and an optional object).
#pragma once

#include <cstdint>
#include <string>

namespace tc::synth::draw {

/// SplitMix64: small, fast, and the same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return static_cast<int>(uniform() * n); }
  /// Approximately standard normal: the standardised sum of the 8 bytes of one
  /// draw (Irwin-Hall); no libm call, so the noise is the same on every platform.
  double normal();

 private:
  uint64_t state_;
};

uint64_t mix64(uint64_t z);

enum class Texture {
  kFlat,     // 0 everywhere
  kStripes,  // sinusoidal stripes across u, period `scale`
  kChecker,  // squares of side `scale`
  kNoise,    // 3-octave value noise of feature size `scale`
  kGrain,    // wood-like rings along u, distorted by noise
  kGrid,     // thin lines every `scale`
  kDots,     // dots on a square lattice of period `scale`
  kWeave,    // crossed sinusoids plus noise (fabric)
  kBlotch,   // thresholded coarse noise (two-tone tiles)
  kRadial,   // concentric rings of period `scale` around the origin
  kHalves,   // 0 for u < 0, 1 for u >= 0 (two-colour capsule)
};

enum class Shape {
  kNone,     // texture only
  kDisc,     // radius w
  kEllipse,  // half axes w, h
  kCapsule,  // horizontal, half length w, radius h
  kPolygon,  // regular `sides`-gon of circumradius w, optional central hole
  kRect,     // half sizes w, h
  kMulti,    // `sides` discs of radius h on a circle of radius w
};

struct Rgb {
  double r = 0, g = 0, b = 0;
};

/// The look of a class. Coordinates are in units of half the image side,
/// origin at the centre, so a style renders the same at every resolution.
struct Style {
  Texture bg_texture = Texture::kFlat;
  double bg_scale = 0.2;
  double bg_angle_deg = 0;
  Rgb bg0, bg1;  // background colour at texture value 0 and 1
  Shape shape = Shape::kNone;
  double w = 0.5, h = 0.5;
  int sides = 6;
  double hole = 0;  // kPolygon: hole radius as a fraction of w
  Texture fg_texture = Texture::kFlat;
  double fg_scale = 0.2;
  double fg_angle_deg = 0;
  Rgb fg0, fg1;
  double max_rotation_deg = 5;  // per-image jitter of the object (and texture)
  double max_shift = 0.04;      // per-image shift of the object, in half sides
};

/// The style of a class of a layout (hand-made for the known names, derived
/// from the name's hash otherwise).
Style style_for(const std::string& layout, const std::string& class_name);

/// Texture value in [0, 1] at (u, v); `salt` picks the noise field.
double texture_value(Texture texture, double u, double v, double scale, uint64_t salt);

}  // namespace tc::synth::draw
