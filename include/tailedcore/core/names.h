// Enums spelled by name in configs, on the command line and in artifacts:
// each enum has one table of (name, value) pairs, and parsing, naming and the
// list of valid names in an error all read that table.
//
//   constexpr core::Named<Vote> kVotes[] = {{"mean", Vote::kMean}, {"mode", Vote::kMode}};
//   Vote v = core::parse_name(kVotes, "vote", text);   // unknown: "vote 'x' is unknown: expected mean or mode"
//   const char* s = core::name_of(kVotes, v);
#pragma once

#include <cstddef>
#include <string>

#include "tailedcore/core/check.h"

namespace tc::core {

template <class E>
struct Named {
  const char* name;
  E value;
};

/// "a, b or c": the table's names in table order, for "expected ..." messages.
template <class E, size_t N>
std::string names_of(const Named<E> (&table)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) out += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(table[i].name);
  return out;
}

/// The value named `name`; an unknown name fails with one line naming `what`
/// and listing the known names.
template <class E, size_t N>
E parse_name(const Named<E> (&table)[N], const std::string& what, const std::string& name) {
  for (const auto& entry : table)
    if (name == entry.name) return entry.value;
  TC_FAIL(what, " '", name, "' is unknown: expected ", names_of(table));
}

template <class E, size_t N>
const char* name_of(const Named<E> (&table)[N], E value) {
  for (const auto& entry : table)
    if (entry.value == value) return entry.name;
  TC_ASSERT(false, "a value missing from its name table");
  return "";
}

}  // namespace tc::core
