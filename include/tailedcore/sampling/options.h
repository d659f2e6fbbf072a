// The greedy's and LOF's options, apart from the algorithms so that the config
// (exp/config.h) takes its defaults from them without LibTorch's headers.
#pragma once

#include <cstdint>
#include <string>

namespace tc::sampling {

struct CoresetOptions {
  double ratio = 0.1;        // centres = max(1, int(n * ratio))
  int64_t proj_dim = 128;    // 0 = no projection
  int64_t start_index = -1;  // first centre; -1 = drawn from `seed`
  uint64_t seed = 0;         // projection and first centre
  int cuda_device = -1;      // CUDA ordinal of the greedy's steps (greedy_device_loop.h); -1 = host
  /// The one range check of these options, naming each by its config key
  /// after `prefix` ("c: model.", "tailedcore coreset: --", or "" where a
  /// library call checks its arguments).
  void validate(const std::string& prefix) const;
};

struct LofOptions {
  int64_t k = 6;                // neighbours (sklearn n_neighbors; k_eff = min(k, N - 1))
  double keep_quantile = 0.85;  // keep scores strictly below this quantile
  int64_t proj_dim = CoresetOptions{}.proj_dim;  // 0 = no projection (one config key for both)
  uint64_t seed = 0;                             // projection
  int cuda_device =
      -1;  // CUDA ordinal of the Gram products; -1 = host (same scores: see lof_blocked.h)
  /// The one range check of these options, naming each by its config key
  /// after `prefix` ("c: model.", "tailedcore lof: --", or "" where a
  /// library call checks its arguments).
  void validate(const std::string& prefix) const;
};

}  // namespace tc::sampling
