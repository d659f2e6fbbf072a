#include "tailedcore/core/paths.h"

#include "tailedcore/core/check.h"

namespace tc::core {

void check_folder_name(const std::string& name, const std::string& what) {
  TC_CHECK(!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
               name.find('\\') == std::string::npos,
           what, " '", name, "' is not a folder name: expected a name without '/' (not . or ..)");
}

std::filesystem::path checked_relative_path(const std::string& rel, const std::string& where) {
  const std::string expected =
      ": expected a relative path inside the folder (no leading '/', no '.' or '..' part)";
  TC_CHECK(!rel.empty(), where, ": empty path", expected);
  TC_CHECK(rel.front() != '/', where, ": '", rel, "' is absolute", expected);
  TC_CHECK(rel.find('\\') == std::string::npos, where, ": '", rel, "' has a '\\'", expected);
  size_t begin = 0;
  for (;;) {
    const size_t slash = rel.find('/', begin);
    const std::string part =
        rel.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin);
    TC_CHECK(!part.empty() && part != "." && part != "..", where, ": '", rel, "' has the part '",
             part, "'", expected);
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  return std::filesystem::path(rel);
}

}  // namespace tc::core
