// The innermost record of HDF5's error stack ("unable to open file",
// "truncated file: eof = 100, ...", "file signature not found"), or "" when
// the stack is empty: the call that failed names only the outermost layer
// ("H5Fopen failed"). Private to src/io.
#pragma once

#include <hdf5.h>

#include <string>

namespace tc::io {

inline std::string hdf5_innermost_error() {
  std::string cause;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        if (n == 0 && err->desc) *static_cast<std::string*>(out) = err->desc;
        return 0;
      },
      &cause);
  return cause;
}

}  // namespace tc::io
