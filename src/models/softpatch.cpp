// SoftPatch (SPEC 5.1): patch-wise LOF drops the noisiest patches, the greedy
// coreset runs on the rest, and each bank row's distance is weighted by its
// LOF score when scoring.
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/models/bank_sharded.h"
#include "tailedcore/models/method.h"

namespace tc::models {
namespace {

class SoftPatch final : public Method {
 public:
  std::string name() const override { return "softpatch"; }
  std::vector<StageId> stages(const exp::Plan&) const override {
    return {StageId::kFeatures, StageId::kLof, StageId::kCoreset, StageId::kTestFeatures, StageId::kScores};
  }
  MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const override {
    TC_ASSERT(in.lof != nullptr, "softpatch fits on LOF scores");
    auto bank = greedy_bank_sharded(in.patches, in.first_row, in.lof->kept_indices, plan.head_coreset, comm);
    bank.weights = in.lof->scores.index_select(0, bank.source_rows);
    return bank;
  }
};

}  // namespace

std::unique_ptr<Method> make_softpatch() { return std::make_unique<SoftPatch>(); }

}  // namespace tc::models
