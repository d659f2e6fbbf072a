// Catalog of an MVTec-AD-format tree:
//   <root>/<class>/train/good/*, <root>/<class>/test/<category>/*,
//   <root>/<class>/ground_truth/<defect>/*   (no ground_truth/good)
// Everything in byte-wise sorted order (Python's sorted()); the global
// training index of an image is its position in train_pool() (SPEC 1.1).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tc::data {

struct ImageRecord {
  std::string path;  // the image file
  std::string class_name;
  std::string category;   // "good" or the defect folder name
  std::string mask_path;  // "" when none (good images)
  bool is_anomaly = false;
};

class Catalog {
 public:
  /// Fails with one line naming the folder when the root is missing or has no
  /// class, a class folder is empty, a class's train/good is missing or empty,
  /// a defect image has no mask, or a mask has no test image (or two masks
  /// name one image). A non-empty folder without train/ and
  /// test/ (e.g. the manifest folder `nlt make` writes) is not a class.
  static Catalog scan(const std::filesystem::path& root);

  const std::vector<std::string>& classes() const { return classes_; }
  const std::filesystem::path& root() const { return root_; }
  /// Every class's train/good merged: class order, then file order.
  std::vector<ImageRecord> train_pool() const;
  std::vector<ImageRecord> train_set(const std::string& cls) const;
  /// Category folders sorted, files sorted; each defect image test/<d>/<stem>.*
  /// paired by name with ground_truth/<d>/<stem>_mask.* (or <stem>.*): the
  /// reference pairs by sorted index, which is the same on a well-formed tree.
  std::vector<ImageRecord> test_set(const std::string& cls) const;

 private:
  std::filesystem::path root_;
  std::vector<std::string> classes_;
  std::map<std::string, std::vector<ImageRecord>> train_, test_;
};

/// How many of `records` each class holds (e.g. a training pool's class sizes).
std::map<std::string, int64_t> images_per_class(const std::vector<ImageRecord>& records);

/// The regular files of a folder, sorted by name (hidden files skipped).
std::vector<std::filesystem::path> sorted_files(const std::filesystem::path& dir);
/// The sub-folders of a folder, sorted by name.
std::vector<std::string> sorted_subdirs(const std::filesystem::path& dir);

}  // namespace tc::data
