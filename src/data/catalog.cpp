#include "tailedcore/data/catalog.h"

#include <algorithm>
#include <map>

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

namespace {

// The image stem a mask stem belongs to: "<stem>_mask" (MVTec, converted VisA)
// or the bare "<stem>".
std::string mask_stem_to_image(const std::string& mask_stem) {
  const std::string suffix = "_mask";
  if (mask_stem.size() > suffix.size() &&
      mask_stem.compare(mask_stem.size() - suffix.size(), suffix.size(), suffix) == 0)
    return mask_stem.substr(0, mask_stem.size() - suffix.size());
  return mask_stem;
}

// The mask of each test image of one defect, by name: test/<defect>/<stem>.*
// pairs with ground_truth/<defect>/<stem>_mask.* (or <stem>.*). On a
// well-formed tree this is the reference's pairing by sorted index (SPEC 1.1);
// a missing image or mask no longer shifts every later pair.
std::vector<fs::path> pair_masks(const std::vector<fs::path>& images, const fs::path& gdir) {
  std::map<std::string, fs::path> by_stem;  // image stem -> mask
  if (fs::is_directory(gdir))
    for (const auto& m : sorted_files(gdir)) {
      const std::string stem = mask_stem_to_image(m.stem().string());
      const auto [it, fresh] = by_stem.emplace(stem, m);
      TC_CHECK(fresh, m.string(), ": a second mask for test image '", stem, "' (the first is ",
               it->second.string(), "): expected one mask per image");
    }
  std::vector<fs::path> out;
  for (const auto& img : images) {
    const auto it = by_stem.find(img.stem().string());
    TC_CHECK(it != by_stem.end(), img.string(), ": no mask: expected ",
             (gdir / (img.stem().string() + "_mask.png")).string());
    out.push_back(it->second);
    by_stem.erase(it);
  }
  if (!by_stem.empty()) {
    const auto& [stem, mask] = *by_stem.begin();
    const fs::path tdir = gdir.parent_path().parent_path() / "test" / gdir.filename();
    TC_FAIL(mask.string(), ": mask without a test image: expected ", (tdir / stem).string(), ".* (",
            by_stem.size(), " such mask(s) in ", gdir.string(), ")");
  }
  return out;
}

}  // namespace

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
      const auto masks = pair_masks(images, gdir);
      for (size_t i = 0; i < images.size(); ++i)
        test.push_back({images[i].string(), cls, cat, masks[i].string(), true});
    }
    // A defect folder of masks whose test folder is gone: every mask is an orphan.
    const fs::path gt = cdir / "ground_truth";
    if (fs::is_directory(gt))
      for (const auto& cat : sorted_subdirs(gt))
        if (cat != "good" && !fs::is_directory(tdir / cat)) pair_masks({}, gt / cat);
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

std::map<std::string, int64_t> images_per_class(const std::vector<ImageRecord>& records) {
  std::map<std::string, int64_t> counts;
  for (const auto& r : records) ++counts[r.class_name];
  return counts;
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
