// Synthetic anomaly-detection data sets: deterministic procedural images with
// exact defect masks, written in the layouts the rest of the framework reads.
//
// Layouts (synth_layout_names()):
//   mvtec  MVTec AD's 15 class names, defect folder names, file names and counts
//          (table embedded from reference/mvtec_ad_layout.csv); grid, screw
//          and zipper are 1-channel PNGs, the rest RGB. Default 64 px; full = the
//          real resolutions (bottle 900, capsule 1000, metal_nut 700, pill 800,
//          tile 840, others 1024).
//     <dest>/<class>/train/good/NNN.png, <dest>/<class>/test/<category>/NNN.png,
//     <dest>/<class>/ground_truth/<defect>/NNN_mask.png (0/255, no ground_truth/good)
//   visa   the RAW VisA tree that `tailedcore visa convert` consumes, with the
//          12 objects and the file names and split of VisA's split_csv/1cls.csv:
//     <dest>/<object>/Data/Images/Normal/<NNNN>.JPG (train and test normals),
//     <dest>/<object>/Data/Images/Anomaly/NNN.JPG,
//     <dest>/<object>/Data/Masks/Anomaly/NNN.png (raw label values 1..5, not 0/255),
//     <dest>/split_csv/1cls.csv (the same rows as VisA's, ordered by split and name).
//          Default 64 px; there is no `full` size for visa (no verified resolutions).
//   small  6 classes (checker, disc, grain, mesh [1 channel], speckle, stripes) of
//          40 train/good, 8 test/good and 2 defect types x 6, in MVTec layout,
//          64..128 px by default: the quick data set of tests and the quickstart.
//
// Every image is a pure function of (seed, layout, class, split, category, index),
// so the output is byte-identical for the same seed whatever the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace tc::synth {

/// One defect folder of a class and its number of test images.
struct SynthCategory {
  std::string name;
  int count = 0;
};

/// One class (VisA: object) of a layout.
struct SynthClass {
  std::string name;
  int train_good = 0;
  int test_good = 0;
  std::vector<SynthCategory> defects;  // visa: one category "anomaly"
  int full_size = 64;                  // side in px at --size full (square images)
  int channels = 3;                    // 1: grayscale PNG, 3: RGB
  /// visa only: the numbers of the normal images in the test split (the rest
  /// of 0..train_good+test_good-1 are train); file names are zero-padded to
  /// max(3, digits of train_good+test_good) digits (candle: 0000..0999).
  std::vector<int> visa_test_normal;
};

struct SynthLayout {
  std::string name;
  std::vector<SynthClass> classes;
  int default_size = 64;  // side when no size is given; 0: each class's full_size
  bool raw_visa = false;  // writes the raw VisA tree instead of the MVTec one
  bool has_full = true;   // whether --size full is allowed
};

/// "mvtec", "small", "visa".
std::vector<std::string> synth_layout_names();
/// The layout called `name`; the error lists the known ones.
const SynthLayout& synth_layout(const std::string& name);

constexpr int kSynthSizeDefault = 0;  // the layout's default size
constexpr int kSynthSizeFull = -1;    // each class's full_size
constexpr int kSynthMinSize = 16;
constexpr int kSynthMaxSize = 4096;

/// Parses --size: "full", "default" or an integer in [kSynthMinSize, kSynthMaxSize].
int parse_synth_size(const std::string& text);

struct SynthOptions {
  std::string layout = "small";
  int size = kSynthSizeDefault;  // px, or kSynthSizeDefault / kSynthSizeFull
  uint64_t seed = 0;
  bool force = false;  // replace an existing dest
  int threads = 0;     // 0: hardware concurrency; the output does not depend on it
};

struct SynthSummary {
  std::filesystem::path dest;
  int classes = 0;
  int images = 0;  // image files written
  int masks = 0;   // mask files written
};

/// Writes the data set into "<dest>.tmp-<pid>" and renames it to `dest`.
/// Fails (one line) when dest exists and !force, on an unknown layout or a bad size.
SynthSummary generate_synthetic(const std::filesystem::path& dest, const SynthOptions& options);

/// One rendered image. Mats are 8-bit, [size, size], CV_8UC3 in OpenCV's BGR
/// order or CV_8UC1 for 1-channel classes.
struct SynthSample {
  cv::Mat image;  // what is written to disk
  cv::Mat clean;  // the same image without its defect (equal to image for good samples)
  /// CV_8UC1, 255 exactly where image != clean, 0 elsewhere (all 0 for good samples).
  cv::Mat mask;
  int defect_kind = -1;  // internal defect family (0..4), -1 for good samples; VisA mask label - 1
};

/// Renders one image of class `class_index` of `layout`. `category` is "good" or
/// one of the class's defects; `item` is the key of the image within
/// (split, category): MVTec layouts use the file number, visa normals use the
/// image number and split "normal". `size` is the side in px.
SynthSample render_synthetic(const SynthLayout& layout, int class_index, const std::string& split,
                             const std::string& category, int item, int size, uint64_t seed);

/// The side in px that class `class_index` gets for a parsed --size value.
int synth_image_size(const SynthLayout& layout, int class_index, int size);

}  // namespace tc::synth
