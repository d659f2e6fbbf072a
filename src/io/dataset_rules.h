// The artifact integrity rule for one open dataset of a file (see
// check_virtual_sources in tailedcore/io/virtual_rows.h), run by
// H5Reader::check. Private to src/io.
#pragma once

#include <hdf5.h>

#include <string>

#include "tailedcore/io/hdf5.h"

namespace tc::io {

void check_dataset_rule(const H5Reader& file, hid_t dataset, const std::string& name);

}  // namespace tc::io
