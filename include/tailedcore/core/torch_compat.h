// LibTorch version differences, in one place (STYLE "What to avoid" 4): CI builds
// against Debian's LibTorch 1.13, clusters against a PyPI/archive LibTorch 2.x.
// Each difference is one small function named for what it does; no version macro
// appears outside this file.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <utility>
#include <variant>

namespace tc::compat {

/// The alternative T of a torch::nn options variant, e.g. a convolution's padding
/// (`ExpandingArray<2>` or `kSame`/`kValid`). LibTorch 1.13 has its own c10::variant
/// (c10::get); from 2.1 it is std::variant (std::get). Decided by the version, not by
/// __has_include: with Debian's libtorch-dev installed, /usr/include still holds 1.13's
/// c10/util/variant.h when building against a 2.x LibTorch.
template <class T, class Variant>
decltype(auto) variant_get(Variant&& v) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  return std::get<T>(std::forward<Variant>(v));
#else
  return c10::get<T>(std::forward<Variant>(v));
#endif
}

}  // namespace tc::compat
