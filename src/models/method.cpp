#include "tailedcore/models/method.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/models/scorer.h"
#include "tailedcore/sampling/lof.h"

namespace tc::models {

// The methods (one file each).
std::unique_ptr<Method> make_patchcore();
std::unique_ptr<Method> make_softpatch();
std::unique_ptr<Method> make_tailedcore();

namespace {

using Factory = std::function<std::unique_ptr<Method>()>;

// The registry: a method's config name and its factory.
const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> methods = {
      {"patchcore", make_patchcore},
      {"softpatch", make_softpatch},
      {"tailedcore", make_tailedcore},
  };
  return methods;
}

const core::NameTable<StageId>& stage_names() {
  static const core::NameTable<StageId> table({
      {StageId::kFeatures, "features"},
      {StageId::kTail, "tail"},
      {StageId::kLof, "lof"},
      {StageId::kTailFeatures, "tail_features"},
      {StageId::kCoreset, "coreset"},
      {StageId::kTestFeatures, "test_features"},
      {StageId::kScores, "scores"},
  });
  return table;
}

}  // namespace

const std::string& stage_name(StageId id) { return stage_names().name(id); }

const std::vector<StageId>& all_stages() {
  static const std::vector<StageId> ids = stage_names().values();
  return ids;
}

StageId parse_stage(const std::string& name, const std::string& where) {
  TC_CHECK(stage_names().has(name), where, " '", name, "' is not a stage: expected one of ",
           core::join_names(stage_names().names()));
  return stage_names().parse(name, where);
}

int64_t projection_seed(const sampling::LofOptions& o) {
  return o.proj_dim > 0 ? static_cast<int64_t>(o.seed) : -1;
}

NoiseScores Method::noise_scores(const at::Tensor& patches, const core::PatchGrids& grids,
                                 const exp::Plan& plan, dist::Comm& comm) const {
  return {sampling::patchwise_lof(patches, grids, plan.lof, comm), "lof",
          projection_seed(plan.lof)};
}

std::unique_ptr<Scorer> Method::scorer(MemoryBank bank, const exp::Plan& plan) const {
  return std::make_unique<Scorer>(std::move(bank), plan.index);
}

std::unique_ptr<Method> make_method(const std::string& name, const std::string& where) {
  for (const auto& [n, make] : registry())
    if (n == name) return make();
  TC_FAIL(where, ": '", name, "' is unknown: expected one of ", core::join_names(method_names()));
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& [n, _] : registry()) names.push_back(n);
  return names;
}

}  // namespace tc::models
