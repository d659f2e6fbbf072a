// Per-class min-max normalisation of SPEC 5.5 (the reference's main.py/utils.py).
// Monotone, so it changes neither AUROC; it only puts classes on one scale
// before backbones are averaged and before pictures are coloured.
#pragma once

#include <ATen/core/Tensor.h>

namespace tc::eval {

/// (x - min) / (max - min + 1e-5) with min and max over EVERY element: pass a
/// class's image scores [n], or all maps [n, H, W] of the class (one min/max
/// over all pixels of all images, not per image). float32 out, same shape;
/// empty in -> empty out.
at::Tensor min_max_normalize(const at::Tensor& values);

}  // namespace tc::eval
