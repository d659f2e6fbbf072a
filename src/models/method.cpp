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
std::vector<std::pair<std::string, Factory>>& registry() {
  static std::vector<std::pair<std::string, Factory>> methods = {
      {"patchcore", make_patchcore},
      {"softpatch", make_softpatch},
      {"tailedcore", make_tailedcore},
  };
  return methods;
}

}  // namespace

int64_t projection_seed(const sampling::LofOptions& o) {
  return o.proj_dim > 0 ? static_cast<int64_t>(o.seed) : -1;
}

NoiseScores Method::noise_scores(const at::Tensor& patches, const core::PatchGrids& grids,
                                 const exp::Plan& plan, dist::Comm& comm) const {
  return {sampling::patchwise_lof(patches, grids, plan.lof, comm), "lof",
          projection_seed(plan.lof)};
}

std::unique_ptr<Scorer> Method::scorer(const exp::Plan&) const {
  return std::make_unique<Scorer>();
}

std::unique_ptr<Method> make_method(const std::string& name, const std::string& where) {
  for (const auto& [n, make] : registry())
    if (n == name) return make();
  TC_FAIL(where, ": '", name, "' is unknown: expected one of ", core::join_names(method_names()));
}

bool register_method(const std::string& name, std::function<std::unique_ptr<Method>()> make) {
  const auto known = method_names();
  TC_CHECK(std::find(known.begin(), known.end(), name) == known.end(), "register_method: '", name,
           "' is taken: the methods are ", core::join_names(known));
  registry().emplace_back(name, std::move(make));
  return true;
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& [n, _] : registry()) names.push_back(n);
  return names;
}

}  // namespace tc::models
