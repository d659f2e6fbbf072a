#include "tailedcore/pipeline/inputs.h"

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/io/files.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

namespace {

std::string file_line(const std::string& kind, const fs::path& file, const fs::path& root) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  TC_CHECK(!ec, file.string(), ": cannot read its size (", ec.message(), ")");
  const auto mtime = fs::last_write_time(file, ec);
  TC_CHECK(!ec, file.string(), ": cannot read its modification time (", ec.message(), ")");
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  return kind + " " + file.lexically_relative(root).string() + " " + std::to_string(size) + " " +
         std::to_string(ns) + "\n";
}

// "<kind> <path>" -> the rest of the line.
std::map<std::string, std::string> parse_listing(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // The path may hold spaces; size and mtime are the last two fields.
    const auto b = line.rfind(' ');
    const auto a = b == std::string::npos || b == 0 ? std::string::npos : line.rfind(' ', b - 1);
    if (a == std::string::npos) continue;
    out[line.substr(0, a)] = line.substr(a + 1);
  }
  return out;
}

}  // namespace

InputListing list_inputs(const data::Catalog& catalog, const std::string& weights) {
  std::string text;
  const fs::path root = catalog.root();
  for (const auto& r : catalog.train_pool()) text += file_line("train", r.path, root);
  for (const auto& cls : catalog.classes()) {
    for (const auto& r : catalog.test_set(cls)) {
      text += file_line("test", r.path, root);
      if (!r.mask_path.empty()) text += file_line("mask", r.mask_path, root);
    }
  }
  if (!weights.empty()) {
    TC_CHECK(fs::is_regular_file(weights), weights, ": model.backbone_weights does not exist");
    text += "weights " + fs::absolute(weights).lexically_normal().string() + " " +
            io::hash_file(weights) + " -\n";
  }
  return {text, io::hash_text(text)};
}

std::string describe_input_changes(const std::string& before, const std::string& after) {
  const auto a = parse_listing(before), b = parse_listing(after);
  std::vector<std::string> changes;
  for (const auto& [key, rest] : a) {
    const auto it = b.find(key);
    if (it == b.end())
      changes.push_back(key + " removed");
    else if (it->second != rest)
      changes.push_back(key + " changed");
  }
  for (const auto& [key, rest] : b)
    if (!a.count(key)) changes.push_back(key + " added");
  if (changes.empty()) return before == after ? "" : "the input listing changed";
  std::string s = std::to_string(changes.size()) + " input file(s) changed: ";
  for (size_t i = 0; i < changes.size() && i < 3; ++i) s += (i ? ", " : "") + changes[i];
  if (changes.size() > 3) s += ", ...";
  return s;
}

}  // namespace tc::pipeline
