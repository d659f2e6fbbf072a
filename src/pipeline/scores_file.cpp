#include "tailedcore/pipeline/scores_file.h"

#include <torch/torch.h>

#include "tailedcore/io/hdf5.h"

namespace tc::pipeline {

void write_class_predictions(io::H5Writer& w, const ClassPredictions& p) {
  const auto& c = p.class_name;
  w.write(c + "/image_scores", p.image_scores.to(torch::kFloat32).contiguous());
  w.write(c + "/anomaly_maps", p.maps.to(torch::kFloat32).contiguous());
  w.write(c + "/labels", p.labels.to(torch::kUInt8).contiguous());
  w.write(c + "/gt_masks", p.masks.to(torch::kUInt8).contiguous());
  w.write_strings(c + "/image_paths", p.image_paths);
}

ClassPredictions read_class_predictions(const io::H5Reader& r, const std::string& class_name) {
  const auto& c = class_name;
  ClassPredictions p;
  p.class_name = c;
  p.image_scores = r.read(c + "/image_scores").to(torch::kFloat32);
  p.maps = r.read(c + "/anomaly_maps").to(torch::kFloat32);
  p.labels = r.read(c + "/labels");
  p.masks = r.read(c + "/gt_masks");
  p.image_paths = r.read_strings(c + "/image_paths");
  return p;
}

}  // namespace tc::pipeline
