// Writing a synthetic data set: the list of files of a layout, rendered by a
// few threads (each file depends only on its own key, so the bytes do not depend
// on the thread count), into a temporary folder renamed into place at the end
// (io::build_folder_atomic).
#include "tailedcore/synth/synth.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/io/files.h"

namespace tc::synth {
namespace fs = std::filesystem;

namespace {

/// One image file (and its mask, if any) to render.
struct Job {
  int class_index;
  std::string split, category;
  int item;
  int size;
  fs::path image, mask;  // mask empty for good images
  bool visa_labels;      // raw VisA mask: label values instead of 0/255
};

std::string padded(int n, int width) {
  std::string s = std::to_string(n);
  return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}

int digits(int n) { return static_cast<int>(std::to_string(std::max(0, n)).size()); }

void add_mvtec_jobs(const SynthLayout& layout, int ci, int size, const fs::path& root,
                    std::vector<Job>& jobs) {
  const SynthClass& cls = layout.classes[ci];
  const fs::path dir = root / cls.name;
  fs::create_directories(dir / "train" / "good");
  fs::create_directories(dir / "test" / "good");
  for (int i = 0; i < cls.train_good; ++i)
    jobs.push_back({ci,
                    "train",
                    "good",
                    i,
                    size,
                    dir / "train" / "good" / (padded(i, 3) + ".png"),
                    {},
                    false});
  for (int i = 0; i < cls.test_good; ++i)
    jobs.push_back(
        {ci, "test", "good", i, size, dir / "test" / "good" / (padded(i, 3) + ".png"), {}, false});
  for (const auto& d : cls.defects) {
    fs::create_directories(dir / "test" / d.name);
    fs::create_directories(dir / "ground_truth" / d.name);
    for (int i = 0; i < d.count; ++i)
      jobs.push_back({ci, "test", d.name, i, size, dir / "test" / d.name / (padded(i, 3) + ".png"),
                      dir / "ground_truth" / d.name / (padded(i, 3) + "_mask.png"), false});
  }
}

// Raw VisA: every normal image numbered 0..N-1 in Data/Images/Normal (the split
// lives only in the CSV), anomalies 000..099 with label masks.
void add_visa_jobs(const SynthLayout& layout, int ci, int size, const fs::path& root,
                   std::vector<Job>& jobs, std::ostringstream& csv) {
  const SynthClass& cls = layout.classes[ci];
  const fs::path data = root / cls.name / "Data";
  fs::create_directories(data / "Images" / "Normal");
  fs::create_directories(data / "Images" / "Anomaly");
  fs::create_directories(data / "Masks" / "Anomaly");
  const int normals = cls.train_good + cls.test_good;
  const int width = std::max(3, digits(normals));  // VisA: 4 digits from 1000 normals on
  std::vector<bool> is_test(static_cast<size_t>(normals), false);
  for (int n : cls.visa_test_normal) is_test.at(static_cast<size_t>(n)) = true;
  // Rows as VisA orders them per object: train normals, test normals, anomalies.
  std::ostringstream train_rows, test_rows;
  for (int i = 0; i < normals; ++i) {
    const std::string name = padded(i, width) + ".JPG";
    jobs.push_back({ci, "normal", "good", i, size, data / "Images" / "Normal" / name, {}, false});
    const std::string row = cls.name + (is_test[static_cast<size_t>(i)] ? ",test" : ",train") +
                            ",normal," + cls.name + "/Data/Images/Normal/" + name + ",\n";
    (is_test[static_cast<size_t>(i)] ? test_rows : train_rows) << row;
  }
  csv << train_rows.str() << test_rows.str();
  TC_ASSERT(cls.defects.size() == 1 && cls.defects[0].name == "anomaly");
  for (int i = 0; i < cls.defects[0].count; ++i) {
    const std::string stem = padded(i, 3);
    jobs.push_back({ci, "anomaly", "anomaly", i, size,
                    data / "Images" / "Anomaly" / (stem + ".JPG"),
                    data / "Masks" / "Anomaly" / (stem + ".png"), true});
    csv << cls.name << ",test,anomaly," << cls.name << "/Data/Images/Anomaly/" << stem << ".JPG,"
        << cls.name << "/Data/Masks/Anomaly/" << stem << ".png\n";
  }
}

void write_image(const fs::path& path, const cv::Mat& img) {
  TC_CHECK(cv::imwrite(path.string(), img), path.string(), ": cannot write the image");
}

void run_job(const SynthLayout& layout, const Job& job, uint64_t seed) {
  const SynthSample s =
      render_synthetic(layout, job.class_index, job.split, job.category, job.item, job.size, seed);
  write_image(job.image, s.image);
  if (job.mask.empty()) return;
  if (job.visa_labels) {
    cv::Mat labels = cv::Mat::zeros(s.mask.size(), CV_8UC1);
    labels.setTo(s.defect_kind + 1, s.mask);
    write_image(job.mask, labels);
  } else {
    write_image(job.mask, s.mask);
  }
}

// Runs every job on `threads` threads; the first error is rethrown.
void run_jobs(const SynthLayout& layout, const std::vector<Job>& jobs, uint64_t seed, int threads) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  core::Progress progress("synth " + layout.name, static_cast<int64_t>(jobs.size()));
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < jobs.size();) {
      try {
        run_job(layout, jobs[i], seed);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
      std::lock_guard<std::mutex> lock(mutex);
      progress.advance();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  progress.finish();
}

}  // namespace

int parse_synth_size(const std::string& text) {
  if (text == "full") return kSynthSizeFull;
  if (text == "default") return kSynthSizeDefault;
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  TC_CHECK(used == text.size() && used > 0 && value >= kSynthMinSize && value <= kSynthMaxSize,
           "--size '", text, "': expected full, default or a side in px from ", kSynthMinSize,
           " to ", kSynthMaxSize);
  return static_cast<int>(value);
}

SynthSummary generate_synthetic(const fs::path& dest, const SynthOptions& options) {
  const SynthLayout& layout = synth_layout(options.layout);
  TC_CHECK(options.size == kSynthSizeDefault || options.size == kSynthSizeFull ||
               (options.size >= kSynthMinSize && options.size <= kSynthMaxSize),
           "--size ", options.size, ": expected full, default or a side in px from ", kSynthMinSize,
           " to ", kSynthMaxSize);
  TC_CHECK(!dest.empty(), "--dest is empty: expected a folder to create");
  TC_CHECK(options.force || !fs::exists(dest), dest.string(),
           ": already exists: expected a new folder (or --force to replace it)");
  std::vector<int> sizes;
  for (size_t ci = 0; ci < layout.classes.size(); ++ci)
    sizes.push_back(synth_image_size(layout, static_cast<int>(ci), options.size));

  SynthSummary summary;
  io::build_folder_atomic(dest, [&](const fs::path& tmp) {
    std::vector<Job> jobs;
    std::ostringstream csv;
    for (size_t ci = 0; ci < layout.classes.size(); ++ci) {
      const int c = static_cast<int>(ci);
      if (layout.raw_visa) {
        add_visa_jobs(layout, c, sizes[ci], tmp, jobs, csv);
      } else {
        add_mvtec_jobs(layout, c, sizes[ci], tmp, jobs);
      }
    }
    if (layout.raw_visa) {
      fs::create_directories(tmp / "split_csv");
      io::write_text_atomic(tmp / "split_csv" / "1cls.csv",
                            "object,split,label,image,mask\n" + csv.str());
    }
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    const int threads = options.threads > 0 ? options.threads : std::max(1, hw);
    core::log_info("synth: layout ", layout.name, ", ", layout.classes.size(), " classes, ",
                   jobs.size(), " images, seed ", options.seed, ", ", threads, " threads -> ",
                   dest.string());
    run_jobs(layout, jobs, options.seed, threads);

    summary.dest = dest;
    summary.classes = static_cast<int>(layout.classes.size());
    summary.images = static_cast<int>(jobs.size());
    for (const auto& j : jobs) summary.masks += j.mask.empty() ? 0 : 1;
  });  // an existing dest is replaced only with --force (checked above)
  return summary;
}

}  // namespace tc::synth
