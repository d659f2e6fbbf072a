// PatchCore (SPEC 5.1 with no filter): the greedy coreset of every training patch.
#include <memory>

#include "tailedcore/exp/plan.h"
#include "tailedcore/models/method.h"

namespace tc::models {
namespace {

class PatchCore final : public Method {
 public:
  std::string name() const override { return "patchcore"; }
  MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const override {
    return greedy_bank(in.train, {}, plan.head_coreset, comm, nullptr, kBankReadRows,
                       in.checkpoint.branch("head"));
  }
};

}  // namespace

std::unique_ptr<Method> make_patchcore() { return std::make_unique<PatchCore>(); }

}  // namespace tc::models
