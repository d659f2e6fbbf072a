// One class's predictions in scores.h5 (DESIGN.md "Artifacts"): what the
// scores stage writes and what the metrics are computed from.
//
// Maps are stored as float32: they are raw squared L2 distances, which
// exceed float16's largest value (65,504) on real backbones (WideResNet-50-2
// maps reach 10^5-10^6), and float16's 11-bit mantissa would also turn
// distinct float32 values into ties that change the pixel AUROC.
#pragma once

#include <string>

#include "tailedcore/pipeline/stages.h"

namespace tc::io {
class H5Writer;
class H5Reader;
}

namespace tc::pipeline {

/// Writes /<class>/{image_scores, anomaly_maps, labels, gt_masks, image_paths};
/// image scores and maps exactly as given (float32).
void write_class_predictions(io::H5Writer& w, const ClassPredictions& p);

/// Reads what write_class_predictions wrote (maps as float32; a file from an
/// older version with float16 maps is read and converted).
ClassPredictions read_class_predictions(const io::H5Reader& r, const std::string& class_name);

}  // namespace tc::pipeline
