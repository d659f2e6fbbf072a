// Checks that turn a user's mistake into one clear line.
//
// TC_CHECK(cond, parts...) throws tc::Error whose message is the parts
// concatenated with operator<< (name the file/key/value at fault and what was
// expected). TC_ASSERT is for internal invariants only: its message adds the
// failed expression and the source location, since it points at our bug.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tc {

/// Every user-facing failure of the library: one line, printed as is by the CLI.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace core::detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

[[noreturn]] void fail(const std::string& message);
[[noreturn]] void fail_assert(const char* expr, const char* file, int line,
                              const std::string& message);

}  // namespace core::detail
}  // namespace tc

#define TC_FAIL(...) ::tc::core::detail::fail(::tc::core::detail::concat(__VA_ARGS__))

#define TC_CHECK(cond, ...)                                                         \
  do {                                                                              \
    if (!(cond)) ::tc::core::detail::fail(::tc::core::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Checks lo <= v <= hi; `what` names the value for the message.
#define TC_CHECK_RANGE(v, lo, hi, what)                                                          \
  do {                                                                                           \
    const auto tc_v_ = (v);                                                                      \
    if (!(tc_v_ >= (lo) && tc_v_ <= (hi)))                                                       \
      ::tc::core::detail::fail(::tc::core::detail::concat(                                       \
          what, " = ", tc_v_, " is out of range: expected ", (lo), " <= ", what, " <= ", (hi))); \
  } while (0)

#define TC_ASSERT(cond, ...)                                                                      \
  do {                                                                                            \
    if (!(cond))                                                                                  \
      ::tc::core::detail::fail_assert(#cond, __FILE__, __LINE__,                                  \
                                      ::tc::core::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
