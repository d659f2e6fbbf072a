#include "tailedcore/data/visa.h"

#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/io/files.h"

namespace tc::data {
namespace fs = std::filesystem;

int64_t convert_visa(const fs::path& source, const fs::path& split_csv, const fs::path& dest, bool force) {
  TC_CHECK(fs::is_directory(source), source.string(), ": VisA folder does not exist");
  TC_CHECK(!fs::exists(dest) || force, dest.string(), ": already exists (pass --force to replace it)");
  std::istringstream in(io::read_text(split_csv));
  std::string line;
  TC_CHECK(std::getline(in, line), split_csv.string(), ": empty file");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  TC_CHECK(line == "object,split,label,image,mask", split_csv.string(), ":1: header '", line,
           "': expected object,split,label,image,mask");
  const fs::path tmp = dest.string() + ".tmp-" + std::to_string(getpid());
  fs::remove_all(tmp);
  io::ensure_writable_dir(tmp);
  int64_t n = 0, line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) c.push_back(cell);
    if (line.back() == ',') c.emplace_back();
    TC_CHECK(c.size() == 5, split_csv.string(), ":", line_no, ": ", c.size(), " cells: expected 5");
    const std::string kind = c[2] == "normal" ? "good" : "bad";
    const fs::path image = source / c[3];
    TC_CHECK(fs::is_regular_file(image), split_csv.string(), ":", line_no, ": ", image.string(),
             " does not exist");
    const fs::path out_dir = tmp / c[0] / c[1] / kind;
    fs::create_directories(out_dir);
    fs::copy_file(image, out_dir / image.filename(), fs::copy_options::overwrite_existing);
    if (!c[4].empty()) {
      const fs::path mask = source / c[4];
      const cv::Mat m = cv::imread(mask.string(), cv::IMREAD_GRAYSCALE);
      TC_CHECK(!m.empty(), split_csv.string(), ":", line_no, ": mask ", mask.string(), " is missing or unreadable");
      const fs::path mdir = tmp / c[0] / "ground_truth" / "bad";
      fs::create_directories(mdir);
      TC_CHECK(cv::imwrite((mdir / (mask.stem().string() + "_mask.png")).string(), (m != 0)),
               mdir.string(), ": cannot write mask");
    }
    ++n;
  }
  if (fs::exists(dest)) fs::remove_all(dest);
  fs::rename(tmp, dest);
  core::log_info("visa: ", n, " images converted into ", dest.string());
  return n;
}

}  // namespace tc::data
