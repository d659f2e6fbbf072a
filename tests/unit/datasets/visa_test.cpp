// `convert_visa` (SPEC 1.3) on a tiny fake VisA tree with its own split CSV.
#include "tailedcore/datasets/visa.h"

#include <gtest/gtest.h>

#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data_trees.h"
#include "tailedcore/core/check.h"
#include "tailedcore/io/files.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::TempDir;
using tc::testing::touch;

namespace {

const char* kHeader = "object,split,label,image,mask\n";

// Raw VisA: <obj>/Data/Images/{Normal,Anomaly}/*.JPG, <obj>/Data/Masks/Anomaly/*.png
// holding small label values (not 0/255). Images are a PNG header and a tag
// (png_header: the converter checks headers, never decodes images, only copies).
struct FakeVisa {
  TempDir tmp;
  fs::path src = tmp / "VisA", csv = tmp / "1cls.csv", dest = tmp / "visa_mvtec";
  FakeVisa() {
    for (const char* rel :
         {"candle/Data/Images/Normal/0000.JPG", "candle/Data/Images/Normal/0001.JPG",
          "candle/Data/Images/Normal/0002.JPG", "candle/Data/Images/Anomaly/000.JPG",
          "candle/Data/Images/Anomaly/001.JPG", "pcb1/Data/Images/Normal/0005.JPG",
          "pcb1/Data/Images/Anomaly/010.JPG"})
      tc::testing::touch_image(src / rel, std::string("jpeg bytes of ") + rel);
    write_mask("candle/Data/Masks/Anomaly/000.png", {0, 1, 2, 0});
    write_mask("candle/Data/Masks/Anomaly/001.png", {0, 0, 0, 3});
    write_mask("pcb1/Data/Masks/Anomaly/010.png", {1, 0, 0, 0});
    touch(csv,
          std::string(kHeader) +
              "candle,train,normal,candle/Data/Images/Normal/0000.JPG,\n"
              "candle,train,normal,candle/Data/Images/Normal/0001.JPG,\n"
              "candle,test,normal,candle/Data/Images/Normal/0002.JPG,\n"
              "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/"
              "000.png\n"
              "candle,test,anomaly,candle/Data/Images/Anomaly/001.JPG,candle/Data/Masks/Anomaly/"
              "001.png\n"
              "pcb1,train,normal,pcb1/Data/Images/Normal/0005.JPG,\n"
              "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/010.JPG,pcb1/Data/Masks/Anomaly/010.png");
  }
  // A 2x2 8-bit single-channel mask.
  void write_mask(const std::string& rel, const std::vector<uint8_t>& v) {
    fs::create_directories((src / rel).parent_path());
    cv::Mat m(2, 2, CV_8UC1);
    for (int i = 0; i < 4; ++i) m.at<uint8_t>(i / 2, i % 2) = v[i];
    ASSERT_TRUE(cv::imwrite((src / rel).string(), m));
  }
};

std::vector<uint8_t> mask_values(const fs::path& p) {
  const cv::Mat m = cv::imread(p.string(), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(m.type(), CV_8UC1) << p;
  std::vector<uint8_t> out;
  for (int i = 0; i < m.rows * m.cols; ++i) out.push_back(m.at<uint8_t>(i / m.cols, i % m.cols));
  return out;
}

using tc::testing::error_of;

TEST(VisaConvert, WritesMvtecLayoutWithBinarisedMasks) {
  FakeVisa v;
  EXPECT_EQ(tc::datasets::convert_visa(v.src, v.csv, v.dest), 7);
  for (const auto& [out, in] : std::vector<std::pair<std::string, std::string>>{
           {"candle/train/good/0000.JPG", "candle/Data/Images/Normal/0000.JPG"},
           {"candle/train/good/0001.JPG", "candle/Data/Images/Normal/0001.JPG"},
           {"candle/test/good/0002.JPG", "candle/Data/Images/Normal/0002.JPG"},
           {"candle/test/bad/000.JPG", "candle/Data/Images/Anomaly/000.JPG"},
           {"candle/test/bad/001.JPG", "candle/Data/Images/Anomaly/001.JPG"},
           {"pcb1/train/good/0005.JPG", "pcb1/Data/Images/Normal/0005.JPG"},
           {"pcb1/test/bad/010.JPG", "pcb1/Data/Images/Anomaly/010.JPG"}})
    EXPECT_EQ(tc::io::read_text(v.dest / out), tc::testing::png_header() + "jpeg bytes of " + in)
        << out;  // copied as is
  // Label values 1, 2, 3 -> 255 (SPEC 1.3: the loader keeps only pixels == 255).
  EXPECT_EQ(mask_values(v.dest / "candle/ground_truth/bad/000_mask.png"),
            (std::vector<uint8_t>{0, 255, 255, 0}));
  EXPECT_EQ(mask_values(v.dest / "candle/ground_truth/bad/001_mask.png"),
            (std::vector<uint8_t>{0, 0, 0, 255}));
  EXPECT_EQ(mask_values(v.dest / "pcb1/ground_truth/bad/010_mask.png"),
            (std::vector<uint8_t>{255, 0, 0, 0}));
  // Exactly the MVTec layout: 7 images + 3 masks, no good masks.
  EXPECT_EQ(tc::testing::count_files_below(v.dest), 10);
  EXPECT_FALSE(fs::exists(v.dest / "candle/ground_truth/good"));
}

TEST(VisaConvert, OfficialSplitCsvRowsMapToSpecCounts) {
  // The official CSV's own rows (no images needed): SPEC 1.3's per-object
  // split sizes follow from label/split alone, e.g. candle 900/100/100.
  std::ifstream in(tc::testing::reference_dir() / "visa_split_csv" / "1cls.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line + "\n", kHeader);
  std::map<std::string, std::array<int, 3>> sizes;
  while (std::getline(in, line)) {
    const auto c = tc::testing::split_csv_line(line);
    ASSERT_EQ(c.size(), 5u) << line;
    const bool good = c[2] == "normal";
    EXPECT_EQ(c[4].empty(), good) << line;  // a mask exactly for the anomalies
    ++sizes[c[0]][c[1] == "train" ? 0 : (good ? 1 : 2)];
  }
  EXPECT_EQ(sizes.size(), 12u);
  EXPECT_EQ(sizes.at("candle"), (std::array<int, 3>{900, 100, 100}));
  EXPECT_EQ(sizes.at("capsules"), (std::array<int, 3>{542, 60, 100}));
  EXPECT_EQ(sizes.at("pcb3"), (std::array<int, 3>{905, 101, 100}));
}

TEST(VisaConvert, SixteenBitAndColourMasksAreBinarised) {
  FakeVisa v;
  cv::Mat m16(1, 3, CV_16UC1);
  m16.at<uint16_t>(0, 0) = 0, m16.at<uint16_t>(0, 1) = 1, m16.at<uint16_t>(0, 2) = 2;
  ASSERT_TRUE(cv::imwrite((v.src / "candle/Data/Masks/Anomaly/000.png").string(), m16));
  cv::Mat rgb(1, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  rgb.at<cv::Vec3b>(0, 2) = cv::Vec3b(0, 0, 1);  // label 1 in one channel only
  ASSERT_TRUE(cv::imwrite((v.src / "candle/Data/Masks/Anomaly/001.png").string(), rgb));
  tc::datasets::convert_visa(v.src, v.csv, v.dest);
  EXPECT_EQ(mask_values(v.dest / "candle/ground_truth/bad/000_mask.png"),
            (std::vector<uint8_t>{0, 255, 255}));
  EXPECT_EQ(mask_values(v.dest / "candle/ground_truth/bad/001_mask.png"),
            (std::vector<uint8_t>{0, 0, 255}));
}

TEST(VisaConvert, BadInputIsNamedAndLeavesNoDest) {
  FakeVisa v;
  auto e = error_of([&] { tc::datasets::convert_visa(v.src, v.tmp / "missing.csv", v.dest); });
  EXPECT_NE(e.find((v.tmp / "missing.csv").string()), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(v.dest));

  touch(v.tmp / "bad_header.csv", "object,split,label,image\ncandle,train,normal,x.JPG\n");
  e = error_of([&] { tc::datasets::convert_visa(v.src, v.tmp / "bad_header.csv", v.dest); });
  EXPECT_NE(e.find("expected object,split,label,image,mask"), std::string::npos) << e;
  EXPECT_NE(e.find("bad_header.csv"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(v.dest));

  touch(v.tmp / "missing_image.csv",
        std::string(kHeader) +
            "candle,train,normal,candle/Data/Images/Normal/0000.JPG,\n"
            "candle,train,normal,candle/Data/Images/Normal/0999.JPG,\n");
  e = error_of([&] { tc::datasets::convert_visa(v.src, v.tmp / "missing_image.csv", v.dest); });
  EXPECT_NE(e.find((v.src / "candle/Data/Images/Normal/0999.JPG").string()), std::string::npos)
      << e;
  EXPECT_NE(e.find("missing_image.csv:3"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(v.dest));
  for (const auto& entry : fs::directory_iterator(v.tmp.path()))  // the temporary tree is removed
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();

  touch(v.tmp / "missing_mask.csv", std::string(kHeader) +
                                        "candle,test,anomaly,candle/Data/Images/Anomaly/"
                                        "000.JPG,candle/Data/Masks/Anomaly/077.png\n");
  e = error_of([&] { tc::datasets::convert_visa(v.src, v.tmp / "missing_mask.csv", v.dest); });
  EXPECT_NE(e.find((v.src / "candle/Data/Masks/Anomaly/077.png").string()), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(v.dest));

  tc::datasets::convert_visa(v.src, v.csv, v.dest);
  e = error_of([&] { tc::datasets::convert_visa(v.src, v.csv, v.dest); });
  EXPECT_NE(e.find("--force"), std::string::npos) << e;
  EXPECT_EQ(tc::datasets::convert_visa(v.src, v.csv, v.dest, /*force=*/true), 7);
}

// Paths come from the CSV: the rule of every tool that reads paths from a
// file (data::source_file) refuses any that leaves the source or dest, and
// files that are not images; nothing is written.
TEST(VisaConvert, PathsOutsideTheTreesAndNonImagesAreRefused) {
  FakeVisa v;
  touch(v.tmp / "outside.JPG", tc::testing::png_header());
  touch(v.src / "candle/Data/Images/Normal/notes.JPG", "not an image");
  const std::string good = "candle,train,normal,candle/Data/Images/Normal/0000.JPG,\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../escaped,train,normal,candle/Data/Images/Normal/0001.JPG,",
       "object '../escaped' is not a folder name"},
      {"/abs,train,normal,candle/Data/Images/Normal/0001.JPG,",
       "object '/abs' is not a folder name"},
      {"..,train,normal,candle/Data/Images/Normal/0001.JPG,", "object '..' is not a folder name"},
      {"candle,../../x,normal,candle/Data/Images/Normal/0001.JPG,",
       "split '../../x': expected train or test"},
      {"candle,train,normal,/etc/passwd,", "image: '/etc/passwd' is absolute"},
      {"candle,train,normal,../outside.JPG,", "image: '../outside.JPG' has the part '..'"},
      {"candle,train,normal,candle/Data/Images/Normal/notes.JPG,",
       "notes.JPG is not an image: expected a PNG or JPEG"},
      {"candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,/etc/passwd",
       "mask: '/etc/passwd' is absolute"},
      {"candle,train,normal,candle/Data/Images/Normal/0000.JPG,",
       "as " + (v.tmp / "hostile.csv").string() + ":2"},
  };
  for (const auto& [row, expected] : cases) {
    touch(v.tmp / "hostile.csv", std::string(kHeader) + good + row + "\n");
    const auto e =
        error_of([&] { tc::datasets::convert_visa(v.src, v.tmp / "hostile.csv", v.dest); });
    EXPECT_NE(e.find(expected), std::string::npos) << row << "\n" << e;
    EXPECT_NE(e.find("hostile.csv:3"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(v.dest)) << row;
    EXPECT_FALSE(fs::exists(v.tmp / "escaped")) << row;
  }
}

// RFC 4180: a quoted cell may hold a comma.
TEST(VisaConvert, QuotedCellsAreRead) {
  FakeVisa v;
  tc::testing::touch_image(v.src / "candle/Data/Images/Normal/a,b.JPG", "comma");
  touch(v.tmp / "quoted.csv",
        std::string(kHeader) + "candle,train,normal,\"candle/Data/Images/Normal/a,b.JPG\",\n");
  EXPECT_EQ(tc::datasets::convert_visa(v.src, v.tmp / "quoted.csv", v.dest), 1);
  EXPECT_TRUE(fs::is_regular_file(v.dest / "candle/train/good/a,b.JPG"));
}

}  // namespace
