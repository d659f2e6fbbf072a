// Paths, names and numbers a user or a file hands the executable (issue 24):
// paths read from files stay inside their trees, compare renders only the
// data's own test images, thread counts are range-checked, undefined metrics
// are named and every mean follows one rule, metrics.csv is RFC 4180, config
// names are folder names, `nlt --help` / `visa --help` print help, and two
// sweeps over one --out keep their own summaries. On a tiny synthetic tree
// (2 classes of the small layout at 48 px).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <sstream>

#include "data_trees.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/io/files.h"
#include "testing.h"

namespace fs = std::filesystem;
using tc::testing::run_cli;
using tc::testing::touch;

namespace {

const std::string kTiny =
    " --set data.resize=48 --set data.imagesize=40 --set data.inputsize=40 --set "
    "model.greedy_ratio=0.05"
    " --set model.coreset_model_name=patchcore";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class HostileInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tc::testing::TempDir();
    // 16 training images per class: seconds per run.
    ASSERT_EQ(tc::testing::make_small_tree(pristine(), {"checker", "disc"}, 16), "");
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path pristine() { return *dir_ / "tiny"; }
  static fs::path config() {
    return tc::testing::fixtures_dir() / ".." / ".." / "configs" / "quickstart.yaml";
  }
  static fs::path copy_of_data(const std::string& name) {
    return tc::testing::fresh_copy(pristine(), *dir_ / name);
  }
  static std::string run_args(const fs::path& data, const std::string& run_id) {
    return "run -c " + config().string() + " --data " + data.string() + " --out " +
           (*dir_ / "out").string() + " --run-id " + run_id + kTiny + " --pictures 0";
  }
  static tc::testing::TempDir* dir_;
};
tc::testing::TempDir* HostileInput::dir_ = nullptr;

// ---- paths read from files ---------------------------------------------------------------

// A VisA tree of real images: one JPEG per row, PNG label masks.
void write_visa(const fs::path& src) {
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar(40, 80, 120));
  for (const char* rel : {"pcb1/Data/Images/Normal/0000.JPG", "pcb1/Data/Images/Anomaly/000.JPG"}) {
    fs::create_directories((src / rel).parent_path());
    ASSERT_TRUE(cv::imwrite((src / rel).string(), img));
  }
  cv::Mat mask(8, 8, CV_8UC1, cv::Scalar(0));
  mask.at<uint8_t>(2, 2) = 1;
  fs::create_directories(src / "pcb1/Data/Masks/Anomaly");
  ASSERT_TRUE(cv::imwrite((src / "pcb1/Data/Masks/Anomaly/000.png").string(), mask));
}

TEST_F(HostileInput, VisaConvertKeepsEveryPathInsideItsTrees) {
  const fs::path root = *dir_ / "visa_paths";
  write_visa(root / "VisA");
  const std::string header = "object,split,label,image,mask\n";
  const std::string good_row = "pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,\n";
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"../escaped,train,normal,pcb1/Data/Images/Normal/0000.JPG,",
       "object '../escaped' is not a folder name"},
      {(root / "abs").string() + ",train,normal,pcb1/Data/Images/Normal/0000.JPG,",
       "is not a folder name"},
      {"pcb1,train,normal,/etc/passwd,", "image: '/etc/passwd' is absolute"},
      {"pcb1,test,anomaly,../../etc/passwd,pcb1/Data/Masks/Anomaly/000.png", "has the part '..'"},
  };
  for (const auto& [row, expected] : rows) {
    touch(root / "split.csv", header + good_row + row + "\n");
    const auto r = run_cli("visa convert --source " + (root / "VisA").string() + " --split-csv " +
                           (root / "split.csv").string() + " --dest " + (root / "dest").string());
    EXPECT_EQ(r.exit_code, 1) << row << "\n" << r.output;
    EXPECT_TRUE(
        contains(r.output, "tailedcore visa: error: " + (root / "split.csv").string() + ":3: "))
        << r.output;
    EXPECT_TRUE(contains(r.output, expected)) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;  // one line
    EXPECT_FALSE(fs::exists(root / "escaped")) << row;
    EXPECT_FALSE(fs::exists(root / "abs")) << row;
    EXPECT_FALSE(fs::exists(root / "dest")) << row;
  }
}

// ---- compare ---------------------------------------------------------------------------

// Overwrites the strings of `dataset` in an HDF5 file with `value` (as a
// hostile or moved scores.h5 would hold them).
void overwrite_strings(const fs::path& file, const std::string& dataset, const std::string& value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << file;
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  ASSERT_GE(d, 0) << dataset;
  const hid_t space = H5Dget_space(d);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const std::vector<const char*> values(n, value.c_str());
  EXPECT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
  H5Tclose(type);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

// ---- two sweeps over one --out, then compare on their runs ---------------------------------

std::string summary_path(const std::string& output) {
  std::smatch m;
  return std::regex_search(output, m, std::regex("summary: (\\S+)")) ? m[1].str() : "";
}

TEST_F(HostileInput,
       TwoSweepsOverOneOutKeepTheirOwnSummariesAndCompareRendersOnlyTheDataItsRunsUsed) {
  const fs::path out = *dir_ / "sweeps";
  const std::string sweep = "sweep -c " + config().string() + " --data " + pristine().string() +
                            " --out " + out.string() + kTiny + " --seeds ";
  const auto a = run_cli(sweep + "0");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const auto b = run_cli(sweep + "1");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const std::string path_a = summary_path(a.output), path_b = summary_path(b.output);
  ASSERT_FALSE(path_a.empty()) << a.output;
  EXPECT_NE(path_a, path_b);
  for (const auto& [path, seed] :
       std::vector<std::pair<std::string, std::string>>{{path_a, "0"}, {path_b, "1"}}) {
    EXPECT_EQ(fs::path(path).parent_path().parent_path(), out / "sweep") << path;
    const auto md = tc::io::read_text(path);  // both are still there after the second sweep
    EXPECT_TRUE(contains(md, "seeds: " + seed + "\n")) << md;
    EXPECT_TRUE(contains(md, "data: " + tc::io::canonical_path(pristine()).string() + "\n")) << md;
    EXPECT_TRUE(contains(md, "## quickstart (1 runs)")) << md;
    EXPECT_TRUE(fs::exists(fs::path(path).parent_path() / "summary.csv"));
  }

  // compare: the runs on their own data are rendered ...
  const fs::path run0 = out / "tiny" / "quickstart" / "seed0",
                 run1 = out / "tiny" / "quickstart" / "seed1";
  const std::string runs = " --run " + run0.string() + " " + run1.string();
  const auto ok = run_cli("compare" + runs + " --data " + pristine().string() + " --out " +
                          (*dir_ / "cmp").string());
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_FALSE(fs::is_empty(*dir_ / "cmp" / "maps"));
  // ... runs of another data folder (a copy: its files are not the runs' images) are refused ...
  const auto other = copy_of_data("other");
  const auto refused = run_cli("compare" + runs + " --data " + other.string() + " --out " +
                               (*dir_ / "cmp2").string());
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_TRUE(contains(refused.output,
                       "expected a run made on --data (runs of another data set are refused)"))
      << refused.output;
  EXPECT_FALSE(fs::exists(*dir_ / "cmp2" / "maps"));
  // ... and an image path in scores.h5 outside the data tree is never rendered.
  const fs::path outside = *dir_ / "outside.png";
  ASSERT_TRUE(cv::imwrite(outside.string(), cv::Mat(48, 48, CV_8UC3, cv::Scalar(0, 0, 255))));
  const fs::path hostile = *dir_ / "hostile_run";
  fs::copy(run0, hostile, fs::copy_options::recursive);
  overwrite_strings(hostile / "scores.h5", "/disc/image_paths", outside.string());
  const auto h = run_cli("compare --run " + hostile.string() + " --data " + pristine().string() +
                         " --out " + (*dir_ / "cmp3").string());
  EXPECT_EQ(h.exit_code, 1) << h.output;
  EXPECT_TRUE(contains(h.output, (hostile / "scores.h5").string() + " /disc/image_paths[0] '" +
                                     outside.string() + "' is not"))
      << h.output;
  EXPECT_FALSE(fs::exists(*dir_ / "cmp3" / "maps"));
}

// ---- threads ------------------------------------------------------------------------------

TEST_F(HostileInput, ThreadCountsOutOfRangeAreOneLineBeforeAnyWork) {
  const std::string data = " --data " + (*dir_ / "no_such_data").string();
  for (const std::string threads : {"100000", "-1"}) {
    for (const auto& cmd :
         {"run -c " + config().string() + data + " --threads " + threads,
          "sweep -c " + config().string() + data + " --out " + (*dir_ / "t").string() +
              " --threads " + threads,
          "synth --dest " + (*dir_ / "t_synth").string() + " --threads " + threads}) {
      const auto r = run_cli(cmd);
      EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.output;
      EXPECT_TRUE(contains(r.output,
                           "--threads " + threads +
                               " is out of range: expected 0 (auto: cores / local ranks) to 1024"))
          << cmd << "\n"
          << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    }
  }
  EXPECT_FALSE(fs::exists(*dir_ / "t_synth"));
  const auto env =
      tc::testing::run_command("TAILEDCORE_THREADS=-3 " + tc::testing::cli_path().string() +
                               " run -c " + config().string() + data);
  EXPECT_EQ(env.exit_code, 1) << env.output;
  EXPECT_TRUE(contains(env.output, "TAILEDCORE_THREADS = -3 is out of range")) << env.output;
}

// ---- masks and undefined metrics -----------------------------------------------------------

// Masks of 0/1 labels (never binarised to 0/255) would give NaN pixel metrics
// for the class: refused before the first stage, naming the values found.
TEST_F(HostileInput, MasksOfZeroAndOneAreRefusedBeforeAnyStage) {
  const auto data = copy_of_data("masks01");
  for (const auto& e : fs::recursive_directory_iterator(data / "checker" / "ground_truth")) {
    if (!e.is_regular_file()) continue;
    cv::Mat m = cv::imread(e.path().string(), cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(m.empty());
    m.setTo(1, m > 0);
    ASSERT_TRUE(cv::imwrite(e.path().string(), m));
  }
  const auto r = run_cli(run_args(data, "masks01"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(
      contains(r.output, "_mask.png: mask values are 0, 1: expected 0 (good) and 255 (defect)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "checker/ground_truth/")) << r.output;
  EXPECT_FALSE(contains(r.output, "stage features")) << r.output;
}

// A class whose test images are all good has no image or pixel AUROC: a
// warning names it and says why; the console, report.md and metrics.csv give
// the same mean (over the classes where the metric is defined) and say what
// was left out. The class name holds a comma and a quote: metrics.csv quotes
// it (RFC 4180).
TEST_F(HostileInput, UndefinedMetricsAreNamedAndEveryOutputGivesTheSameMean) {
  const auto data = copy_of_data("allgood");
  const std::string odd = "di,s\"c";
  fs::rename(data / "disc", data / odd);
  for (const auto& e : fs::directory_iterator(data / odd / "test"))
    if (e.path().filename() != "good") fs::remove_all(e.path());
  fs::remove_all(data / odd / "ground_truth");
  const auto r = run_cli(run_args(data, "allgood"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "class " + odd + ": image AUROC and image F1-max undefined: all "))
      << r.output;
  EXPECT_TRUE(contains(r.output, "test images are good (no defective image)")) << r.output;
  EXPECT_TRUE(contains(
      r.output, "pixel AUROC, AUPRO and pixel F1-max undefined: no mask pixel marks a defect"))
      << r.output;
  EXPECT_TRUE(contains(r.output,
                       "means: image AUROC over 1 of 2 classes (undefined, left out: " + odd + ")"))
      << r.output;

  // The console's mean row.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("\\nmean +(\\S+) +(\\S+)\\n"))) << r.output;
  const double console_image = std::stod(m[1].str()), console_pixel = std::stod(m[2].str());
  EXPECT_FALSE(std::isnan(console_image)) << r.output;
  // metrics.csv: RFC 4180, the odd class name in one quoted cell, the same mean.
  const fs::path run_dir = *dir_ / "out" / "allgood" / "quickstart" / "allgood";
  const auto records =
      tc::core::parse_csv(tc::io::read_text(run_dir / "metrics.csv"), "metrics.csv");
  ASSERT_EQ(records.size(), 4u);
  for (const auto& rec : records) EXPECT_EQ(rec.cells.size(), 7u) << rec.line;
  std::vector<std::string> names;
  for (const auto& rec : records) names.push_back(rec.cells[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"class", "checker", odd, "mean"}));
  EXPECT_NEAR(std::stod(records[3].cells[1]), console_image, 0.006);
  EXPECT_NEAR(std::stod(records[3].cells[2]), console_pixel, 0.006);
  EXPECT_NEAR(std::stod(records[3].cells[1]), std::stod(records[1].cells[1]),
              1e-9);  // checker's alone
  // report.md: the same numbers, and what the means left out.
  const auto md = tc::io::read_text(run_dir / "report.md");
  std::ostringstream mean_row;
  mean_row << "| **mean** | | | **" << m[1].str() << "** | **" << m[2].str() << "** |";
  EXPECT_TRUE(contains(md, mean_row.str())) << md;
  EXPECT_TRUE(contains(
      md, "Means are over the classes where a metric is defined: image AUROC over 1 of 2 classes"))
      << md;
}

// ---- config names -------------------------------------------------------------------------

TEST_F(HostileInput, ConfigFileNamesThatAreNoFolderNamesAreRefused) {
  const fs::path cfgs = *dir_ / "cfgs" / "sub";
  fs::create_directories(cfgs);
  const std::string weights =
      " --set model.backbone_weights=" +
      tc::io::canonical_path(tc::testing::weights_dir() / "efficientnet_lite0.pt").string();
  for (const std::string name : {"...yaml", "..yaml"}) {
    fs::copy_file(config(), cfgs / name, fs::copy_options::overwrite_existing);
    const fs::path out = *dir_ / "cfg_out" / "inner";
    const auto r =
        run_cli("run -c " + (cfgs / name).string() + " --data " + pristine().string() + " --out " +
                out.string() + " --run-id x" + kTiny + weights + " --stop-after features");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(contains(r.output, (cfgs / name).string() + ": the config's name '" +
                                       fs::path(name).stem().string() + "' is not a folder name"))
        << r.output;
    EXPECT_FALSE(fs::exists(*dir_ / "cfg_out"))
        << name;  // nothing written, inside --out or beside it
    const auto s = run_cli("sweep -c " + (cfgs / name).string() + " --data " + pristine().string() +
                           " --out " + out.string() + kTiny + weights);
    EXPECT_EQ(s.exit_code, 1) << s.output;
    EXPECT_TRUE(contains(s.output, "is not a folder name")) << s.output;
    EXPECT_FALSE(fs::exists(*dir_ / "cfg_out")) << name;
  }
}

// ---- help ---------------------------------------------------------------------------------

TEST(HelpOfDataCommands, NltAndVisaHelpPrintHelpAndExitZero) {
  for (const char* flag : {"--help", "-h"}) {
    const auto nlt = run_cli(std::string("nlt ") + flag);
    EXPECT_EQ(nlt.exit_code, 0) << nlt.output;
    EXPECT_TRUE(contains(nlt.output, "tailedcore nlt apply:")) << nlt.output;
    EXPECT_TRUE(contains(nlt.output, "tailedcore nlt make:")) << nlt.output;
    EXPECT_TRUE(contains(nlt.output, "--prune-manifest")) << nlt.output;
    EXPECT_FALSE(contains(nlt.output, "error")) << nlt.output;
    const auto visa = run_cli(std::string("visa ") + flag);
    EXPECT_EQ(visa.exit_code, 0) << visa.output;
    EXPECT_TRUE(contains(visa.output, "--split-csv")) << visa.output;
    EXPECT_FALSE(contains(visa.output, "error")) << visa.output;
  }
  // The verbs' own help, and a missing verb is still an error that points at the help.
  EXPECT_EQ(run_cli("nlt apply --help").exit_code, 0);
  EXPECT_EQ(run_cli("visa convert --help").exit_code, 0);
  const auto none = run_cli("nlt");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(contains(none.output, "tailedcore nlt --help")) << none.output;
}

}  // namespace
