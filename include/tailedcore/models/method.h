// An anomaly-detection method: which artifacts its fit reads, how it fits
// its memory bank from them, and how it scores. PatchCore, SoftPatch and
// TailedCore are one file each (src/models/<name>.cpp); make_method is the one
// place a config's model name is looked up.
//
// Adding a method: a new src/models/<name>.cpp with a class deriving from
// Method and a factory `std::unique_ptr<Method> make_<name>()`, plus its line
// in the registry (src/models/method.cpp); code linked into an executable
// (a test, a plug-in) calls register_method instead.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <map>
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
  // [train.first_row, + train.rows) of [N * P, D] float32 (blocks of whole
  // images, contiguous, in rank order; the whole set on one rank), in memory
  // (a run) or read from a file block by block (`tailedcore coreset`).
  // Indices (lof->kept_indices, bank source_rows) are global rows.
  LocalRows train;
  const sampling::LofResult* lof = nullptr;  // when fit_inputs names "lof"
  // Every artifact fit_inputs names, by name, e.g. "tail_features" (read block by block).
  std::map<std::string, std::filesystem::path> artifacts;
  sampling::GreedyCheckpoint
      checkpoint;  // where the greedy keeps its state (a branch each), or none
};

class Method {
 public:
  virtual ~Method() = default;
  /// The config name (model.coreset_model_name).
  virtual std::string name() const = 0;
  /// The artifacts fit reads besides the training features, named by the
  /// stage that makes them ("lof", "tail_features", or a stage registered
  /// with pipeline::register_stage): the run makes them before the coreset
  /// (pipeline::stage_order). Default: none.
  virtual std::vector<std::string> fit_inputs(const exp::Plan& plan) const { return {}; }
  /// The lof stage's scores of every training row (global, image-major), from
  /// this rank's images' rows `patches` (FitInputs' blocks) and every image's
  /// patch grid. Default: SoftPatch's patch-wise LOF (sampling::patchwise_lof).
  virtual NoiseScores noise_scores(const at::Tensor& patches, const core::PatchGrids& grids,
                                   const exp::Plan& plan, dist::Comm& comm) const;
  /// The memory bank (collective over comm).
  virtual MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const = 0;
  /// What turns test patches' nearest bank rows into patch scores, on a
  /// replicated and a sharded bank alike (models/scorer.h). Default:
  /// nearest-neighbour distance times the row's weight.
  virtual std::unique_ptr<Scorer> scorer(const exp::Plan& plan) const;
};

/// The method called `name`; an unknown name is an error (naming `where`,
/// e.g. "c.yaml: model.coreset_model_name") that lists the known ones.
std::unique_ptr<Method> make_method(const std::string& name, const std::string& where);
/// The registered names, in registration order.
std::vector<std::string> method_names();
/// Adds a method after the built-in ones (a name taken is an error); returns
/// true, so that `const bool r = register_method(...);` at namespace scope
/// registers before main. Built-ins are in the table in method.cpp instead:
/// a static library drops an object file nothing refers to, registrar
/// and all.
bool register_method(const std::string& name, std::function<std::unique_ptr<Method>()> make);

}  // namespace tc::models
