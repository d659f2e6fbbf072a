// The synthetic data generator: its embedded tables against the reference CSVs,
// exact masks, determinism, class separability, and the files it writes.
#include "tailedcore/synth/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "tailedcore/core/check.h"
#include "testing.h"

using namespace tc::synth;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// path relative to root -> bytes, for every regular file under root.
std::map<std::string, std::string> tree_bytes(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = read_bytes(e.path());
  return out;
}

int count_files(const fs::path& dir) {
  if (!fs::is_directory(dir)) return -1;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// Pixels where two images of the same type differ in any channel (CV_8UC1, 0/255).
cv::Mat differing(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  if (diff.channels() > 1) cv::transform(diff, diff, cv::Matx13f(1, 1, 1));
  return diff > 0;
}

}  // namespace

TEST(SynthLayouts, MvtecTableEqualsTheReferenceCsv) {
  const auto rows = read_csv(tc::testing::reference_dir() / "mvtec_ad_layout.csv");
  ASSERT_EQ(rows.size(), 103u);
  // class -> (train, test good, [(defect, count)], size, channels) from the CSV.
  std::map<std::string, SynthClass> want;
  std::vector<std::string> order;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 7u);
    if (!want.count(r[0])) order.push_back(r[0]);
    SynthClass& c = want[r[0]];
    c.name = r[0];
    const int count = std::stoi(r[3]);
    if (r[1] == "train")
      c.train_good = count;
    else if (r[2] == "good")
      c.test_good = count;
    else
      c.defects.push_back({r[2], count});
    c.full_size = std::stoi(r[4]);
    EXPECT_EQ(r[4], r[5]) << "square images";
    c.channels = std::stoi(r[6]);
  }
  const SynthLayout& layout = synth_layout("mvtec");
  ASSERT_EQ(layout.classes.size(), order.size());
  int total = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const SynthClass& got = layout.classes[i];
    const SynthClass& exp = want[order[i]];
    EXPECT_EQ(got.name, exp.name);
    EXPECT_EQ(got.train_good, exp.train_good) << exp.name;
    EXPECT_EQ(got.test_good, exp.test_good) << exp.name;
    EXPECT_EQ(got.full_size, exp.full_size) << exp.name;
    EXPECT_EQ(got.channels, exp.channels) << exp.name;
    ASSERT_EQ(got.defects.size(), exp.defects.size()) << exp.name;
    total += got.train_good + got.test_good;
    for (size_t d = 0; d < exp.defects.size(); ++d) {
      EXPECT_EQ(got.defects[d].name, exp.defects[d].name) << exp.name;
      EXPECT_EQ(got.defects[d].count, exp.defects[d].count)
          << exp.name << "/" << exp.defects[d].name;
      total += got.defects[d].count;
    }
  }
  EXPECT_EQ(total, 5354);
}

TEST(SynthLayouts, VisaTableEqualsTheSplitCsv) {
  const auto rows = read_csv(tc::testing::reference_dir() / "visa_split_csv" / "1cls.csv");
  ASSERT_EQ(rows.size(), 10821u);
  std::map<std::string, int> train, anomalies;
  std::map<std::string, std::set<int>> test_normal;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 5u);
    const std::string stem = fs::path(r[3]).stem().string();
    if (r[2] == "normal" && r[1] == "train") ++train[r[0]];
    if (r[2] == "normal" && r[1] == "test") test_normal[r[0]].insert(std::stoi(stem));
    if (r[2] == "anomaly") ++anomalies[r[0]];
  }
  const SynthLayout& layout = synth_layout("visa");
  ASSERT_EQ(layout.classes.size(), train.size());
  for (const auto& c : layout.classes) {
    EXPECT_EQ(c.train_good, train[c.name]) << c.name;
    EXPECT_EQ(c.test_good, static_cast<int>(test_normal[c.name].size())) << c.name;
    EXPECT_EQ(std::set<int>(c.visa_test_normal.begin(), c.visa_test_normal.end()),
              test_normal[c.name])
        << c.name;
    ASSERT_EQ(c.defects.size(), 1u);
    EXPECT_EQ(c.defects[0].count, anomalies[c.name]) << c.name;
  }
}

TEST(SynthLayouts, UnknownLayoutListsTheKnownOnes) {
  try {
    synth_layout("mvtech");
    FAIL() << "expected an error";
  } catch (const tc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mvtech"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mvtec, small, visa"), std::string::npos) << e.what();
  }
}

TEST(SynthLayouts, ParseSize) {
  EXPECT_EQ(parse_synth_size("full"), kSynthSizeFull);
  EXPECT_EQ(parse_synth_size("default"), kSynthSizeDefault);
  EXPECT_EQ(parse_synth_size("32"), 32);
  for (const char* bad : {"", "0", "15", "4097", "32px", "abc", "-64", "1e3"})
    EXPECT_THROW(parse_synth_size(bad), tc::Error) << bad;
  EXPECT_THROW(synth_image_size(synth_layout("visa"), 0, kSynthSizeFull), tc::Error);
  EXPECT_EQ(synth_image_size(synth_layout("mvtec"), 0, kSynthSizeFull), 900);
  EXPECT_EQ(synth_image_size(synth_layout("mvtec"), 0, kSynthSizeDefault), 64);
  EXPECT_EQ(synth_image_size(synth_layout("small"), 2, kSynthSizeDefault),
            synth_layout("small").classes[2].full_size);
}

// The mask is exactly the set of pixels the defect changed: every pixel outside
// it equals the defect-free render, every pixel inside differs from it.
TEST(SynthRender, MasksAreExactlyTheChangedPixels) {
  for (const std::string name : {"small", "mvtec", "visa"}) {
    const SynthLayout& layout = synth_layout(name);
    for (size_t ci = 0; ci < layout.classes.size(); ++ci) {
      const SynthClass& cls = layout.classes[ci];
      for (const auto& d : cls.defects) {
        for (int item = 0; item < (name == "visa" ? 5 : 2); ++item) {  // visa: the 5 families
          const std::string split = name == "visa" ? "anomaly" : "test";
          const auto s = render_synthetic(layout, static_cast<int>(ci), split, d.name, item, 32, 7);
          const std::string what =
              name + "/" + cls.name + "/" + d.name + "/" + std::to_string(item);
          ASSERT_EQ(s.image.size(), cv::Size(32, 32)) << what;
          ASSERT_EQ(s.image.channels(), cls.channels) << what;
          ASSERT_EQ(s.mask.type(), CV_8UC1) << what;
          ASSERT_EQ(s.mask.size(), s.image.size()) << what;
          EXPECT_EQ(cv::countNonZero((s.mask != 0) & (s.mask != 255)), 0) << what << ": not 0/255";
          EXPECT_GT(cv::countNonZero(s.mask), 0) << what << ": empty mask";
          EXPECT_LT(cv::countNonZero(s.mask), 32 * 32 / 2)
              << what << ": defect covers half the image";
          EXPECT_EQ(cv::norm(differing(s.image, s.clean), s.mask, cv::NORM_INF), 0.0)
              << what << ": changed pixels != mask";
          EXPECT_GE(s.defect_kind, 0) << what;
        }
      }
      const auto good = render_synthetic(layout, static_cast<int>(ci), "train", "good", 0, 32, 7);
      EXPECT_EQ(cv::countNonZero(good.mask), 0) << cls.name;
      EXPECT_EQ(cv::norm(good.image, good.clean, cv::NORM_INF), 0.0) << cls.name;
      EXPECT_EQ(good.defect_kind, -1);
    }
  }
}

TEST(SynthRender, SameKeySameBytesOtherKeyOtherImage) {
  const SynthLayout& layout = synth_layout("mvtec");
  for (int ci : {0, 4, 14}) {
    const auto a = render_synthetic(layout, ci, "train", "good", 3, 48, 11);
    const auto b = render_synthetic(layout, ci, "train", "good", 3, 48, 11);
    EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
    const auto other_item = render_synthetic(layout, ci, "train", "good", 4, 48, 11);
    const auto other_seed = render_synthetic(layout, ci, "train", "good", 3, 48, 12);
    EXPECT_GT(cv::norm(a.image, other_item.image, cv::NORM_L1), 0.0) << "no per-image jitter";
    EXPECT_GT(cv::norm(a.image, other_seed.image, cv::NORM_L1), 0.0) << "seed ignored";
  }
  EXPECT_THROW(render_synthetic(layout, 0, "test", "no_such_defect", 0, 32, 0), tc::Error);
  EXPECT_THROW(render_synthetic(layout, 15, "train", "good", 0, 32, 0), tc::Error);
}

// Classes look different and images of a class look alike: nearest-centroid on
// simple colour/texture/layout statistics classifies held-out good images perfectly.
TEST(SynthRender, ClassesAreSeparableBySimpleStatistics) {
  auto features = [](const cv::Mat& img) {
    cv::Mat bgr;
    if (img.channels() == 1)
      cv::merge(std::vector<cv::Mat>{img, img, img}, bgr);
    else
      bgr = img;
    cv::Mat f;
    bgr.convertTo(f, CV_32FC3);
    std::vector<double> out;
    cv::Scalar mean, stddev;
    cv::meanStdDev(f, mean, stddev);
    for (int k = 0; k < 3; ++k) out.insert(out.end(), {mean[k], stddev[k]});
    cv::Mat gray, dx, dy;
    cv::transform(f, gray, cv::Matx13f(1 / 3.f, 1 / 3.f, 1 / 3.f));
    cv::absdiff(gray.colRange(1, gray.cols), gray.colRange(0, gray.cols - 1), dx);
    cv::absdiff(gray.rowRange(1, gray.rows), gray.rowRange(0, gray.rows - 1), dy);
    out.push_back(cv::mean(dx)[0]);
    out.push_back(cv::mean(dy)[0]);
    const int cell = gray.cols / 4;
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x)
        out.push_back(cv::mean(gray(cv::Rect(x * cell, y * cell, cell, cell)))[0]);
    return out;
  };
  auto distance = [](const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
    return d;
  };
  for (const std::string name : {"small", "mvtec", "visa"}) {
    const SynthLayout& layout = synth_layout(name);
    const std::string split = name == "visa" ? "normal" : "train";
    const int n_fit = 6, n_test = 4;
    std::vector<std::vector<double>> centroids;
    for (size_t ci = 0; ci < layout.classes.size(); ++ci) {
      std::vector<double> sum;
      for (int i = 0; i < n_fit; ++i) {
        const auto f =
            features(render_synthetic(layout, static_cast<int>(ci), split, "good", i, 32, 1).image);
        if (sum.empty()) sum.assign(f.size(), 0.0);
        for (size_t k = 0; k < f.size(); ++k) sum[k] += f[k] / n_fit;
      }
      centroids.push_back(sum);
    }
    for (size_t ci = 0; ci < layout.classes.size(); ++ci) {
      for (int i = n_fit; i < n_fit + n_test; ++i) {
        const auto f =
            features(render_synthetic(layout, static_cast<int>(ci), split, "good", i, 32, 1).image);
        size_t best = 0;
        for (size_t cj = 1; cj < centroids.size(); ++cj)
          if (distance(f, centroids[cj]) < distance(f, centroids[best])) best = cj;
        EXPECT_EQ(layout.classes[best].name, layout.classes[ci].name) << name << " image " << i;
      }
    }
  }
}

TEST(SynthWrite, SmallTreeMatchesTheRenderAndIsDeterministic) {
  tc::testing::TempDir tmp;
  SynthOptions opts;
  opts.layout = "small";
  opts.size = 32;
  opts.seed = 5;
  opts.threads = 1;
  const auto summary = generate_synthetic(tmp / "a", opts);
  const SynthLayout& layout = synth_layout("small");
  EXPECT_EQ(summary.classes, 6);
  EXPECT_EQ(summary.images, 6 * (40 + 8 + 12));
  EXPECT_EQ(summary.masks, 6 * 12);
  for (size_t ci = 0; ci < layout.classes.size(); ++ci) {
    const SynthClass& cls = layout.classes[ci];
    const fs::path dir = tmp / "a" / cls.name;
    EXPECT_EQ(count_files(dir / "train" / "good"), cls.train_good);
    EXPECT_EQ(count_files(dir / "test" / "good"), cls.test_good);
    EXPECT_FALSE(fs::exists(dir / "ground_truth" / "good"));
    for (const auto& d : cls.defects) {
      EXPECT_EQ(count_files(dir / "test" / d.name), d.count);
      EXPECT_EQ(count_files(dir / "ground_truth" / d.name), d.count);
      const cv::Mat img =
          cv::imread((dir / "test" / d.name / "005.png").string(), cv::IMREAD_UNCHANGED);
      const cv::Mat mask = cv::imread((dir / "ground_truth" / d.name / "005_mask.png").string(),
                                      cv::IMREAD_UNCHANGED);
      const auto want = render_synthetic(layout, static_cast<int>(ci), "test", d.name, 5, 32, 5);
      ASSERT_EQ(img.channels(), cls.channels) << cls.name;
      ASSERT_EQ(mask.type(), CV_8UC1);
      EXPECT_EQ(cv::norm(img, want.image, cv::NORM_INF), 0.0) << cls.name << ": file != render";
      EXPECT_EQ(cv::norm(mask, want.mask, cv::NORM_INF), 0.0) << cls.name << ": mask != render";
    }
    const cv::Mat good =
        cv::imread((dir / "train" / "good" / "039.png").string(), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(
        cv::norm(good,
                 render_synthetic(layout, static_cast<int>(ci), "train", "good", 39, 32, 5).image,
                 cv::NORM_INF),
        0.0);
  }
  // Same seed, other thread count: the same bytes. Another seed: other bytes.
  opts.threads = 3;
  generate_synthetic(tmp / "b", opts);
  EXPECT_TRUE(tree_bytes(tmp / "a") == tree_bytes(tmp / "b")) << "output depends on threads";
  opts.seed = 6;
  generate_synthetic(tmp / "c", opts);
  EXPECT_FALSE(tree_bytes(tmp / "a") == tree_bytes(tmp / "c"));
  // Nothing but the three data sets is left (no temporary folder).
  int entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) entries += e.is_directory() ? 1 : 0;
  EXPECT_EQ(entries, 3);
}

TEST(SynthWrite, RefusesAnExistingDestUnlessForced) {
  tc::testing::TempDir tmp;
  fs::create_directories(tmp / "d" / "keep");
  SynthOptions opts;
  opts.size = 16;
  try {
    generate_synthetic(tmp / "d", opts);
    FAIL() << "expected an error";
  } catch (const tc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(tmp / "d" / "keep"));
  opts.force = true;
  generate_synthetic(tmp / "d", opts);
  EXPECT_FALSE(fs::exists(tmp / "d" / "keep"));
  EXPECT_EQ(count_files(tmp / "d" / "checker" / "train" / "good"), 40);
  opts.layout = "nope";
  EXPECT_THROW(generate_synthetic(tmp / "e", opts), tc::Error);
  opts.layout = "visa";
  opts.size = kSynthSizeFull;
  EXPECT_THROW(generate_synthetic(tmp / "e", opts), tc::Error);
  EXPECT_FALSE(fs::exists(tmp / "e"));
}

TEST(SynthWrite, VisaRawTreeAndSplitCsv) {
  tc::testing::TempDir tmp;
  SynthOptions opts;
  opts.layout = "visa";
  opts.size = 16;
  const auto summary = generate_synthetic(tmp / "visa", opts);
  EXPECT_EQ(summary.images, 10821);
  EXPECT_EQ(summary.masks, 1200);
  // The split CSV has VisA's rows (the reference CSV's, up to the order of rows).
  const auto ref = tc::testing::reference_dir() / "visa_split_csv" / "1cls.csv";
  ASSERT_TRUE(fs::is_regular_file(ref)) << ref << " is missing";
  auto lines = [](const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    if (!out.empty()) std::sort(out.begin() + 1, out.end());  // the header stays first
    return out;
  };
  EXPECT_TRUE(lines(tmp / "visa" / "split_csv" / "1cls.csv") == lines(ref));
  // Every image and mask the CSV names exists; masks hold label values, not 0/255.
  for (const auto& r : read_csv(tmp / "visa" / "split_csv" / "1cls.csv")) {
    ASSERT_TRUE(fs::is_regular_file(tmp / "visa" / r[3])) << r[3];
    if (!r[4].empty()) ASSERT_TRUE(fs::is_regular_file(tmp / "visa" / r[4])) << r[4];
  }
  // The official visa-nlt manifests apply after conversion: each pruned
  // <obj>/train/good/NAME is a train normal of the CSV, each injected
  // <obj>/train/good/bad_NNN.JPG an anomaly image that exists.
  std::set<std::string> train_normals;
  for (const auto& r : read_csv(tmp / "visa" / "split_csv" / "1cls.csv"))
    if (r[1] == "train") train_normals.insert(r[0] + "/" + fs::path(r[3]).filename().string());
  for (const std::string variant : {"pareto", "step_k1", "step_k4"}) {
    const fs::path m = tc::testing::reference_dir() / "manifest" / "visa-nlt" / variant / "seed01";
    std::ifstream pruned(m / "prune_good.txt"), injected(m / "inject_defects.txt");
    int n = 0;
    for (std::string l; std::getline(pruned, l); ++n) {
      const fs::path p(l);
      EXPECT_TRUE(train_normals.count(p.begin()->string() + "/" + p.filename().string())) << l;
    }
    EXPECT_GT(n, 0) << m;
    for (std::string l; std::getline(injected, l);) {
      const fs::path p(l);
      const std::string name = p.filename().string();
      ASSERT_EQ(name.rfind("bad_", 0), 0u) << l;
      EXPECT_TRUE(fs::is_regular_file(tmp / "visa" / p.begin()->string() / "Data/Images/Anomaly" /
                                      name.substr(4)))
          << l;
    }
  }
  const cv::Mat mask =
      cv::imread((tmp / "visa" / "pcb1/Data/Masks/Anomaly/003.png").string(), cv::IMREAD_UNCHANGED);
  double lo, hi;
  cv::minMaxLoc(mask, &lo, &hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_GE(hi, 1.0);
  EXPECT_LE(hi, 5.0);
  const cv::Mat jpg = cv::imread((tmp / "visa" / "candle/Data/Images/Normal/0999.JPG").string(),
                                 cv::IMREAD_UNCHANGED);
  EXPECT_EQ(jpg.size(), cv::Size(16, 16));
  EXPECT_EQ(read_bytes(tmp / "visa" / "candle/Data/Images/Normal/0999.JPG").substr(0, 2),
            "\xFF\xD8")
      << "not a JPEG";
}
