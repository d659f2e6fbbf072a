// The threshold rules of class-size estimation (SPEC 4.2, 4.3), shared by the
// image-level estimate (class_size.h) and the patch-wise one
// (class_size_patchwise.h). A similarity row i includes column j when
// S_ij >= th_i; the rules differ in where th_i comes from:
//   scalar   one threshold for the whole matrix, from its row minima:
//            symmin cos(acos(min) / 2f), symavg the same with their mean,
//            indep cos((pi/2) / 2f); f = 2 within an image's patches, else 1
//   per row  from row i alone, exact to the reference's
//            adaptive_class_size._compute_th_<name> (float32 where it is):
//            half_min, trim_min, truncate_min, max_step, double_max_step
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace tc::sampling {

enum class Threshold {
  kSymmin,
  kSymavg,
  kIndep,
  kHalfMin,
  kTrimMin,
  kTruncateMin,
  kMaxStep,
  kDoubleMaxStep
};

/// "trim_min" -> kTrimMin; an unknown name fails listing the known ones.
Threshold parse_threshold(const std::string& name);
const char* threshold_name(Threshold t);

/// symmin, symavg and indep: one threshold for the whole matrix.
bool is_scalar(Threshold t);

/// The scalar rule's threshold from the row minima of the similarity
/// ([n] float32; every row's, across ranks); factor f = 2 for patches within
/// an image, else 1. Float32 tensor ops as the reference's torch.cos(torch.acos(m) / (2 f)).
float scalar_threshold(Threshold t, const at::Tensor& row_minima, int64_t factor);

/// The per-row rule's threshold of one similarity row (n float32 values).
/// `degenerate` is set when trim_min/truncate_min find no value above the
/// half-angle threshold (the reference raises IndexError there); the row's
/// largest value is then the threshold (DESIGN.md "Decisions").
float row_threshold(const float* row, int64_t n, Threshold t, bool* degenerate);

/// The reference's `_sort(v)`: trunc(float32(n * v)) sorted, back to float32 / n.
std::vector<float> quantized_sorted(const float* row, int64_t n);

}  // namespace tc::sampling
