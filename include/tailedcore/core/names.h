// A choice's one name table: the names a config, a CLI option and a factory
// accept for an enum, and the error that lists them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tailedcore/core/check.h"

namespace tc::core {

/// "a, b, c" ("" shown as null, the config's spelling of none).
std::string join_names(const std::vector<std::string>& names);

template <class E>
class NameTable {
 public:
  explicit NameTable(std::vector<std::pair<E, std::string>> entries)
      : entries_(std::move(entries)) {}

  /// The value named `name`; else "<where>: '<name>' is unknown: expected one of ...".
  E parse(const std::string& name, const std::string& where) const {
    for (const auto& [e, n] : entries_)
      if (n == name) return e;
    TC_FAIL(where, ": '", name, "' is unknown: expected one of ", join_names(names()));
  }
  const std::string& name(E value) const {
    for (const auto& [e, n] : entries_)
      if (e == value) return n;
    TC_FAIL("value ", static_cast<int>(value), " has no name");
  }
  bool has(const std::string& name) const {
    for (const auto& [e, n] : entries_)
      if (n == name) return true;
    return false;
  }
  std::vector<E> values() const {
    std::vector<E> out;
    for (const auto& [e, n] : entries_) out.push_back(e);
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [e, n] : entries_) out.push_back(n);
    return out;
  }

 private:
  std::vector<std::pair<E, std::string>> entries_;
};

}  // namespace tc::core
