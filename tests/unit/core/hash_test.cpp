#include "tailedcore/core/hash.h"

#include <gtest/gtest.h>

namespace {

// FNV-1a's published test vectors (64-bit): the empty string is the offset basis.
TEST(Hash, Fnv1aMatchesThePublishedVectors) {
  EXPECT_EQ(tc::core::fnv1a(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(tc::core::fnv1a("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(tc::core::fnv1a("foobar"), 0x85944171f73967e8ull);
  // Piece by piece is the same as at once (hash_file reads in blocks).
  EXPECT_EQ(tc::core::fnv1a("bar", tc::core::fnv1a("foo")), tc::core::fnv1a("foobar"));
}

}  // namespace
