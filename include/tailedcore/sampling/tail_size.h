// The tail-size estimate (SPEC 4.1): from every image's class size, how many
// images each class holds, and the largest class size that still counts as
// tail (max_K). Exact to the reference's predict_num_samples_per_class and
// predict_max_K.
#pragma once

#include <cstdint>
#include <vector>

namespace tc::sampling {

/// Sizes rounded (half to even; NaN counts as 1), greedily partitioned into
/// classes; the class sizes sorted descending.
std::vector<int64_t> predict_num_samples_per_class(const std::vector<float>& class_sizes);

/// min(elbow, percentile rule): the elbow of the descending class sizes, or
/// the size of the class where the smallest classes together pass
/// `percentile` of the images, whichever is smaller.
int64_t predict_max_k(const std::vector<int64_t>& samples_per_class, double percentile = 0.15);

/// The value farthest from the line through the first and last of the sorted
/// (descending) values.
int64_t elbow(const std::vector<int64_t>& values);

}  // namespace tc::sampling
