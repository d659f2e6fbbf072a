// An anomaly-detection method: which stages it needs, how it fits its memory
// bank from their outputs, and how it scores. PatchCore, SoftPatch and
// TailedCore are one file each (src/models/<name>.cpp); make_method is the one
// place a config's model name is looked up.
//
// Adding a method: a new src/models/<name>.cpp with a class deriving from
// Method and a factory `std::unique_ptr<Method> make_<name>()`, plus its line
// in the registry (src/models/method.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tailedcore/core/patch_grids.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/sampling/greedy_checkpoint.h"
#include "tailedcore/sampling/lof.h"

namespace tc::dist {
class Comm;
}
namespace tc::exp {
struct Plan;
}

namespace tc::models {

class Scorer;

/// The stages of a run, in the order they run (pipeline/stage.h runs them).
enum class StageId { kFeatures, kTail, kLof, kTailFeatures, kCoreset, kTestFeatures, kScores };
/// "features", "tail", "lof", "tail_features", "coreset", "test_features", "scores":
/// the artifact names (<name>.h5) and what --stop-after takes.
const std::string& stage_name(StageId id);
/// Every stage in run order.
const std::vector<StageId>& all_stages();
/// The stage called `name`; an unknown one is an error (naming `where`) listing them.
StageId parse_stage(const std::string& name, const std::string& where);

/// LOF-type noise scores and the filter that made them ("lof", "tailed_lof").
struct NoiseScores {
  sampling::LofResult lof;
  std::string filter;
  int64_t projection_seed =
      -1;  // the seed of the projection the scores were computed on; -1 = none
};

/// NoiseScores::projection_seed of scores computed with `o`.
int64_t projection_seed(const sampling::LofOptions& o);

/// What the stages before the coreset produced, as the method asked for them.
struct FitInputs {
  // This rank's block of the training patch features: global rows
  // [first_row, first_row + rows) of [N * P, D] float32 (blocks of whole
  // images, contiguous, in rank order; the whole set on one rank). Indices
  // (lof->kept_indices, bank source_rows) are global rows.
  at::Tensor patches;
  int64_t first_row = 0;
  const sampling::LofResult* lof = nullptr;  // when the method runs kLof
  std::filesystem::path tail_features;       // kTailFeatures' artifact (read block by block), or ""
  sampling::GreedyCheckpoint
      checkpoint;  // where the greedy keeps its state (a branch each), or none
};

class Method {
 public:
  virtual ~Method() = default;
  /// The config name (model.coreset_model_name).
  virtual std::string name() const = 0;
  /// The stages this method runs for `plan`, in run order (a subset of all_stages()).
  virtual std::vector<StageId> stages(const exp::Plan& plan) const = 0;
  /// The kLof stage's scores of every training row (global, image-major), from
  /// this rank's images' rows `patches` (FitInputs' blocks) and every image's
  /// patch grid. Default: SoftPatch's patch-wise LOF (sampling::patchwise_lof).
  virtual NoiseScores noise_scores(const at::Tensor& patches, const core::PatchGrids& grids,
                                   const exp::Plan& plan, dist::Comm& comm) const;
  /// The memory bank (collective over comm).
  virtual MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const = 0;
  /// What scores test patches against the bank. Default: nearest-neighbour
  /// distance times the row's weight (models/scorer.h).
  virtual std::unique_ptr<Scorer> scorer(MemoryBank bank, const exp::Plan& plan) const;
};

/// The method called `name`; an unknown name is an error (naming `where`,
/// e.g. "c.yaml: model.coreset_model_name") that lists the known ones.
std::unique_ptr<Method> make_method(const std::string& name, const std::string& where);
/// The registered names, in registration order.
std::vector<std::string> method_names();

}  // namespace tc::models
