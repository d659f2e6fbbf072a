#include "tailedcore/core/names.h"

namespace tc::core {

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + (n.empty() ? std::string("null") : n);
  return s;
}

}  // namespace tc::core
