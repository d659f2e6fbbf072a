// SoftPatch (SPEC 5.1): patch-wise LOF drops the noisiest patches, the greedy
// coreset runs on the rest, and each bank row's distance is weighted by its
// LOF score when scoring.
#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/models/method.h"

namespace tc::models {
namespace {

class SoftPatch final : public Method {
 public:
  std::string name() const override { return "softpatch"; }
  std::vector<std::string> fit_inputs(const exp::Plan&) const override { return {"lof"}; }
  MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const override {
    TC_ASSERT(in.lof != nullptr, "softpatch fits on LOF scores");
    TC_CHECK(in.lof->kept_indices.numel() > 0, "softpatch: LOF kept none of the ",
             in.lof->scores.numel(),
             " training patches (their scores are NaN or all equal, so none is below the "
             "model.lof_keep quantile): "
             "expected some patches to build the bank from");
    auto bank = greedy_bank(in.train, in.lof->kept_indices, plan.head_coreset, comm, nullptr,
                            kBankReadRows, in.checkpoint.branch("head"));
    bank.weights = in.lof->scores.index_select(0, bank.source_rows);
    return bank;
  }
};

}  // namespace

std::unique_ptr<Method> make_softpatch() { return std::make_unique<SoftPatch>(); }

}  // namespace tc::models
