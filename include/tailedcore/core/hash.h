// 64-bit FNV-1a, the project's one hash: stage cache keys and file digests
// (io::hash_text; io::hash_file folds four FNV lanes over 8-byte words into
// it) and the synthetic data's per-name seeds.
#pragma once

#include <cstdint>
#include <string_view>

namespace tc::core {

constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ull;

/// FNV-1a of `bytes`, continuing from `h`: pass the previous result to hash a
/// stream piece by piece.
constexpr uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnv1aOffsetBasis) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace tc::core
