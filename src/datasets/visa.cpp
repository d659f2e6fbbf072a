#include "tailedcore/datasets/visa.h"

#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/io/files.h"

namespace tc::datasets {
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

// One row of the split CSV, checked: where its files come from and go.
struct VisaRow {
  std::string where;     // csv:line
  fs::path image, mask;  // in the source; mask empty for a good image
  fs::path out_dir;      // <object>/<split>/<good|bad>, relative to dest
  std::string object;
};

// Every row is checked before anything is written: the object is a folder
// name, the split train or test, the image and mask relative paths to PNG or
// JPEG files inside the source (source_file, the rule nlt apply uses too),
// and no two rows write one file.
std::vector<VisaRow> read_rows(const fs::path& source, const fs::path& split_csv) {
  const auto records = core::parse_csv(io::read_text(split_csv), split_csv.string());
  TC_CHECK(!records.empty(), split_csv.string(), ": empty file");
  const auto& header = records.front().cells;
  std::string joined;
  for (const auto& h : header) joined += (joined.empty() ? "" : ",") + h;
  TC_CHECK(joined == "object,split,label,image,mask", split_csv.string(), ":1: header '", joined,
           "': expected object,split,label,image,mask");
  std::vector<VisaRow> rows;
  std::map<fs::path, std::string> written;  // output file -> the row that writes it
  const auto claim = [&](const fs::path& out, const std::string& where) {
    const auto [it, fresh] = written.emplace(out, where);
    TC_CHECK(fresh, where, ": writes ", out.string(), " as ", it->second,
             " does: expected one row per output file");
  };
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& c = records[i].cells;
    VisaRow r;
    r.where = split_csv.string() + ":" + std::to_string(records[i].line);
    TC_CHECK(c.size() == 5, r.where, ": ", c.size(),
             " cells: expected 5 (object,split,label,image,mask)");
    core::check_folder_name(c[0], r.where + ": object");
    TC_CHECK(c[1] == "train" || c[1] == "test", r.where, ": split '", c[1],
             "': expected train or test");
    r.object = c[0];
    r.out_dir = fs::path(c[0]) / c[1] / (c[2] == "normal" ? "good" : "bad");
    r.image = data::source_file(source, c[3], r.where + ": image", /*image=*/true);
    claim(r.out_dir / r.image.filename(), r.where);
    if (!c[4].empty()) {
      r.mask = data::source_file(source, c[4], r.where + ": mask", /*image=*/true);
      claim(fs::path(c[0]) / "ground_truth" / "bad" / (r.mask.stem().string() + "_mask.png"),
            r.where);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void write_rows(const std::vector<VisaRow>& rows, const fs::path& out) {
  for (const auto& r : rows) {
    const fs::path out_dir = out / r.out_dir;
    fs::create_directories(out_dir);
    fs::copy_file(r.image, out_dir / r.image.filename(), fs::copy_options::overwrite_existing);
    if (!r.mask.empty()) {
      const fs::path mdir = out / r.object / "ground_truth" / "bad";
      fs::create_directories(mdir);
      TC_CHECK(cv::imwrite((mdir / (r.mask.stem().string() + "_mask.png")).string(),
                           read_binarised_mask(r.mask, r.where)),
               mdir.string(), ": cannot write mask");
    }
  }
}

}  // namespace

int64_t convert_visa(const fs::path& source, const fs::path& split_csv, const fs::path& dest,
                     bool force) {
  TC_CHECK(fs::is_directory(source), source.string(), ": VisA folder does not exist");
  io::check_dest_apart_from_source(source, dest);
  TC_CHECK(!fs::exists(dest) || force, dest.string(),
           ": already exists (pass --force to replace it)");
  const auto rows = read_rows(source, split_csv);
  io::build_folder_atomic(dest, [&](const fs::path& tmp) { write_rows(rows, tmp); });
  const auto n = static_cast<int64_t>(rows.size());
  core::log_info("visa: ", n, " images converted into ", dest.string());
  return n;
}

}  // namespace tc::datasets
