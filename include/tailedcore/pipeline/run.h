// `tailedcore run`: one experiment (config x data set) through every stage,
// with per-stage caching under the run directory (see stage_cache.h).
//
// Contract: collective over `comm`; every rank calls run_experiment with the
// same options. Images are sharded in catalog order; rank 0 writes artifacts.
// Results do not depend on the number of ranks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tc::dist {
class Comm;
}

namespace tc::pipeline {

struct RunOptions {
  std::filesystem::path config_path;
  std::vector<std::string> overrides;  // "a.b=value"
  std::filesystem::path data_dir;      // an MVTec-format tree (noisy long-tail training set)
  std::filesystem::path out_root = "results";
  std::string dataset_name;  // "" = the data folder's name
  std::string run_id;        // "" = the config hash (so a rerun resumes)
  std::string stop_after;    // stop after this stage (tests of resume); "" = run all
  int64_t pictures_per_class = 2;
  int threads = 0;  // 0 = cores / local ranks
};

struct ClassRow {
  std::string class_name;
  int64_t train_images = 0;
  bool tail_class = false;  // at most 20 training images (the reference's analysis)
  double image_auroc = 0, pixel_auroc = 0, aupro = 0, image_f1_max = 0, pixel_f1_max = 0;
};

struct RunSummary {
  std::filesystem::path run_dir;
  std::string model;
  std::vector<ClassRow> classes;
  double mean_image_auroc = 0, mean_pixel_auroc = 0;
  // Tail selection against the truth (images of classes with <= 20 training images).
  int64_t tail_selected = -1, tail_truth = 0, tail_true_positives = 0;
  std::vector<std::pair<std::string, double>> stage_seconds;  // in run order
  bool stopped_early = false;
};

RunSummary run_experiment(const RunOptions& opts, dist::Comm& comm);

/// Tail classes: at most this many training images.
constexpr int64_t kTailClassMaxImages = 20;

}  // namespace tc::pipeline
