// What a run's results depend on besides its config: the data set's files
// (each with its size and modification time) and the backbone weights (a
// digest of their bytes). The stage cache key covers this listing, so a
// changed, added or removed input recomputes the stages, and the run log says
// which files changed (against the listing kept in the run folder).
#pragma once

#include <filesystem>
#include <string>

namespace tc::data {
class Catalog;
}

namespace tc::pipeline {

struct InputListing {
  std::string text;  // one line per input: "<kind> <path relative to the data> <size> <mtime ns>"
  std::string hash;  // io::hash_text(text)
};

/// Every training image, test image and mask of the catalog (catalog order),
/// and the weights file (path and content digest) when `weights` is not empty.
InputListing list_inputs(const data::Catalog& catalog, const std::string& weights);

/// "3 input files changed: bottle/test/crack/000.png removed, ..." (the first
/// few by name), or "" when the listings are equal.
std::string describe_input_changes(const std::string& before, const std::string& after);

}  // namespace tc::pipeline
