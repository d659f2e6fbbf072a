#include "tailedcore/data/visa.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/io/files.h"

namespace tc::data {
namespace fs = std::filesystem;

namespace {

// Non-zero -> 255 in any colour channel (alpha ignored), 8-bit single channel.
// IMREAD_UNCHANGED, not GRAYSCALE: GRAYSCALE scales a 16-bit mask to 8 bits
// (value / 256), which turns small label values into 0.
cv::Mat read_binarised_mask(const fs::path& mask, const std::string& where) {
  const cv::Mat m = cv::imread(mask.string(), cv::IMREAD_UNCHANGED);
  TC_CHECK(!m.empty(), where, ": mask ", mask.string(), " is missing or unreadable");
  std::vector<cv::Mat> channels;
  cv::split(m, channels);
  if (channels.size() == 4) channels.pop_back();
  cv::Mat binary = channels[0] != 0;
  for (size_t k = 1; k < channels.size(); ++k) binary |= (channels[k] != 0);
  return binary;
}

// The rows after the header, written under `out`; returns the number of images.
int64_t convert_rows(std::istream& in, const fs::path& source, const fs::path& split_csv,
                     const fs::path& out) {
  int64_t n = 0, line_no = 1;
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = split_csv.string() + ":" + std::to_string(line_no);
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) c.push_back(cell);
    if (line.back() == ',') c.emplace_back();
    TC_CHECK(c.size() == 5, where, ": ", c.size(),
             " cells: expected 5 (object,split,label,image,mask)");
    const std::string kind = c[2] == "normal" ? "good" : "bad";
    const fs::path image = source / c[3];
    TC_CHECK(fs::is_regular_file(image), where, ": ", image.string(), " does not exist");
    const fs::path out_dir = out / c[0] / c[1] / kind;
    fs::create_directories(out_dir);
    fs::copy_file(image, out_dir / image.filename(), fs::copy_options::overwrite_existing);
    if (!c[4].empty()) {
      const fs::path mask = source / c[4];
      const fs::path mdir = out / c[0] / "ground_truth" / "bad";
      fs::create_directories(mdir);
      TC_CHECK(cv::imwrite((mdir / (mask.stem().string() + "_mask.png")).string(),
                           read_binarised_mask(mask, where)),
               mdir.string(), ": cannot write mask");
    }
    ++n;
  }
  return n;
}

}  // namespace

int64_t convert_visa(const fs::path& source, const fs::path& split_csv, const fs::path& dest,
                     bool force) {
  TC_CHECK(fs::is_directory(source), source.string(), ": VisA folder does not exist");
  io::check_dest_apart_from_source(source, dest);
  TC_CHECK(!fs::exists(dest) || force, dest.string(),
           ": already exists (pass --force to replace it)");
  std::istringstream in(io::read_text(split_csv));
  std::string line;
  TC_CHECK(std::getline(in, line), split_csv.string(), ": empty file");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  TC_CHECK(line == "object,split,label,image,mask", split_csv.string(), ":1: header '", line,
           "': expected object,split,label,image,mask");
  int64_t n = 0;
  io::build_folder_atomic(dest, [&](const fs::path& tmp) { n = convert_rows(in, source, split_csv, tmp); });
  core::log_info("visa: ", n, " images converted into ", dest.string());
  return n;
}

}  // namespace tc::data
