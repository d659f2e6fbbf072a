#include "tailedcore/core/check.h"

namespace tc::core::detail {

void fail(const std::string& message) { throw Error(message); }

void fail_assert(const char* expr, const char* file, int line, const std::string& message) {
  throw Error(concat("internal error: ", expr, " failed at ", file, ":", line,
                     message.empty() ? "" : ": ", message));
}

}  // namespace tc::core::detail
