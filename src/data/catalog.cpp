#include "tailedcore/data/catalog.h"

#include <algorithm>

#include "tailedcore/core/check.h"

namespace tc::data {
namespace fs = std::filesystem;

std::vector<fs::path> sorted_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().string() < b.filename().string();
  });
  return out;
}

std::vector<std::string> sorted_subdirs(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string()[0] != '.')
      out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

Catalog Catalog::scan(const fs::path& root) {
  TC_CHECK(fs::is_directory(root), root.string(), ": data folder does not exist");
  Catalog c;
  c.root_ = root;
  for (const auto& cls : sorted_subdirs(root)) {
    const fs::path cdir = root / cls;
    TC_CHECK(!fs::is_empty(cdir), cdir.string(),
             ": empty class folder: expected <class>/train/good with training images");
    // Folders of the MVTec layout only: anything else at the top (e.g. a
    // manifest folder written by `nlt make`) is not a class.
    if (!fs::is_directory(cdir / "train") && !fs::is_directory(cdir / "test")) continue;
    c.classes_.push_back(cls);
    const fs::path good = cdir / "train" / "good";
    TC_CHECK(fs::is_directory(good), good.string(),
             ": missing: expected <class>/train/good with training images");
    auto& train = c.train_[cls];
    for (const auto& f : sorted_files(good)) train.push_back({f.string(), cls, "good", "", false});
    TC_CHECK(!train.empty(), good.string(), ": empty: expected at least one training image");

    auto& test = c.test_[cls];
    const fs::path tdir = cdir / "test";
    if (!fs::is_directory(tdir)) continue;
    for (const auto& cat : sorted_subdirs(tdir)) {
      const auto images = sorted_files(tdir / cat);
      if (cat == "good") {
        for (const auto& f : images) test.push_back({f.string(), cls, cat, "", false});
        continue;
      }
      const fs::path gdir = cdir / "ground_truth" / cat;
      const auto masks = fs::is_directory(gdir) ? sorted_files(gdir) : std::vector<fs::path>{};
      for (size_t i = 0; i < images.size(); ++i) {
        TC_CHECK(i < masks.size(), images[i].string(), ": no mask: expected ",
                 (gdir / (images[i].stem().string() + "_mask.png")).string(), " (", gdir.string(),
                 " has ", masks.size(), " masks for ", images.size(), " images)");
        test.push_back({images[i].string(), cls, cat, masks[i].string(), true});
      }
    }
  }
  TC_CHECK(!c.classes_.empty(), root.string(),
           ": no class folders: expected <class>/train/good and <class>/test/<category>");
  return c;
}

std::vector<ImageRecord> Catalog::train_pool() const {
  std::vector<ImageRecord> out;
  for (const auto& cls : classes_) {
    const auto& v = train_.at(cls);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<ImageRecord> Catalog::train_set(const std::string& cls) const {
  const auto it = train_.find(cls);
  TC_CHECK(it != train_.end(), root_.string(), ": class '", cls, "' does not exist");
  return it->second;
}

std::vector<ImageRecord> Catalog::test_set(const std::string& cls) const {
  const auto it = test_.find(cls);
  TC_CHECK(it != test_.end(), root_.string(), ": class '", cls, "' does not exist");
  TC_CHECK(!it->second.empty(), (root_ / cls / "test").string(), ": no test images");
  return it->second;
}

}  // namespace tc::data
