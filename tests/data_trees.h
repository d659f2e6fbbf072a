// Placeholder data trees for the noisy long-tail and VisA tests: files that
// hold only a PNG header (png_header), named exactly as in MVTec AD (reference/mvtec_ad_layout.csv)
// or in converted VisA (reference/visa_split_csv/1cls.csv), so the official manifests can be
// applied without the real images.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tc::testing {

/// A fresh folder for trees of thousands of (empty) files, removed at scope
/// end: under /dev/shm when it is a writable tmpfs (file creation there is
/// about 100x faster than on a loaded disk), else under the system temp dir.
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    std::random_device rd;
    for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
      const auto p =
          base / ("tailedcore-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
      if (std::filesystem::create_directory(p)) path_ = p;
    }
    if (path_.empty())
      throw std::runtime_error("cannot create a scratch folder under " + base.string());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void touch(const std::filesystem::path& p, const std::string& content = "") {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

/// The first bytes of a 1x1 greyscale PNG (signature and IHDR chunk): what
/// data::has_image_header reads, so a placeholder passes the image rule of
/// nlt apply and visa convert without being a whole image.
inline const std::string& png_header() {
  static const std::string h(
      "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0\0\0\0\0", 33);
  return h;
}

/// A placeholder image file: png_header() then `tag` (to trace copies).
inline void touch_image(const std::filesystem::path& p, const std::string& tag = "") {
  touch(p, png_header() + tag);
}

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

inline std::string zero_pad(int i, int width) {
  std::string s = std::to_string(i);
  return std::string(width > static_cast<int>(s.size()) ? width - s.size() : 0, '0') + s;
}

/// MVTec AD layout from mvtec_ad_layout.csv (class,split,category,count,...):
/// <root>/<class>/train/good/NNN.png, test/<category>/NNN.png,
/// ground_truth/<defect>/NNN_mask.png. Returns the rows read.
inline int make_mvtec_placeholder_tree(const std::filesystem::path& layout_csv,
                                       const std::filesystem::path& root) {
  std::ifstream in(layout_csv);
  if (!in) throw std::runtime_error("cannot read " + layout_csv.string());
  std::string line;
  std::getline(in, line);  // header
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto c = split_csv_line(line);
    const int count = std::stoi(c.at(3));
    for (int i = 0; i < count; ++i) {
      const std::string n = zero_pad(i, 3);
      if (c[1] == "train") {
        touch_image(root / c[0] / "train" / "good" / (n + ".png"));
      } else {
        touch_image(root / c[0] / "test" / c[2] / (n + ".png"));
        if (c[2] != "good") touch_image(root / c[0] / "ground_truth" / c[2] / (n + "_mask.png"));
      }
    }
    ++rows;
  }
  return rows;
}

/// The converted VisA layout (SPEC 1.3) from the official 1cls.csv:
/// <root>/<object>/<split>/<good|bad>/<basename>, masks at
/// <root>/<object>/ground_truth/bad/<stem>_mask.png. Returns the rows read.
inline int make_visa_placeholder_tree(const std::filesystem::path& split_csv,
                                      const std::filesystem::path& root) {
  std::ifstream in(split_csv);
  if (!in) throw std::runtime_error("cannot read " + split_csv.string());
  std::string line;
  std::getline(in, line);  // header
  int rows = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto c = split_csv_line(line);
    const std::filesystem::path image(c.at(3));
    const std::string kind = c.at(2) == "normal" ? "good" : "bad";
    touch_image(root / c[0] / c[1] / kind / image.filename());
    if (!c.at(4).empty())
      touch_image(root / c[0] / "ground_truth" / "bad" /
                  (std::filesystem::path(c[4]).stem().string() + "_mask.png"));
    ++rows;
  }
  return rows;
}

/// Per class: (good images kept, defect images injected) in <root>/<class>/train/good.
/// Good images have numeric names; injected ones start with the defect's name
/// (SPEC 1.4), i.e. with a letter.
inline std::map<std::string, std::pair<int, int>> train_counts(const std::filesystem::path& root) {
  std::map<std::string, std::pair<int, int>> out;
  for (const auto& cls : std::filesystem::directory_iterator(root)) {
    const auto good = cls.path() / "train" / "good";
    if (!std::filesystem::is_directory(good)) continue;
    auto& counts = out[cls.path().filename().string()];
    for (const auto& f : std::filesystem::directory_iterator(good)) {
      const char first = f.path().filename().string()[0];
      if (first >= '0' && first <= '9')
        ++counts.first;
      else
        ++counts.second;
    }
  }
  return out;
}

/// Number of regular files (or links to them) below `dir`.
inline int count_files_below(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    n += e.is_regular_file() ? 1 : 0;
  return n;
}

}  // namespace tc::testing
