// TailedCore (SPEC 5.1-5.3): class sizes from the global embeddings pick the
// tail images; their patches and rotated/flipped views get their own coreset,
// the rest (the head) is denoised by LOF (or TailedLOF) and gets another; the
// bank is the tail coreset followed by the head's. No tail_th_type: the head
// branch alone (LOF-filtered PatchCore, unweighted).
#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/exp/plan.h"
#include "tailedcore/models/method.h"
#include "tailedcore/sampling/tailed_lof.h"

namespace tc::models {
namespace {

class TailedCore final : public Method {
 public:
  std::string name() const override { return "tailedcore"; }
  std::vector<StageId> stages(const exp::Plan& plan) const override {
    if (plan.tail_rule == sampling::TailRule::kNone)
      return {StageId::kFeatures, StageId::kLof, StageId::kCoreset, StageId::kTestFeatures,
              StageId::kScores};
    return {StageId::kFeatures, StageId::kTail,         StageId::kLof,   StageId::kTailFeatures,
            StageId::kCoreset,  StageId::kTestFeatures, StageId::kScores};
  }
  NoiseScores noise_scores(const at::Tensor& patches, const core::PatchGrids& grids,
                           const exp::Plan& plan, dist::Comm& comm) const override {
    if (!plan.tail_lof) return Method::noise_scores(patches, grids, plan, comm);
    // TailedLOF: LOF times the few-shot score of each patch position.
    return {sampling::tailed_lof(patches, grids, plan.lof, plan.class_size.threshold, comm),
            "tailed_lof", projection_seed(plan.lof)};
  }
  MemoryBank fit(const FitInputs& in, const exp::Plan& plan, dist::Comm& comm) const override {
    TC_ASSERT(in.lof != nullptr, "tailedcore fits its head on LOF scores");
    auto head =
        greedy_bank(LocalRows::of(in.patches, in.first_row), in.lof->kept_indices,
                    plan.head_coreset, comm, nullptr, kBankReadRows, in.checkpoint.branch("head"));
    if (in.tail_features.empty()) return head;
    // Each rank reads only its block of tail_features.h5.
    const auto tail =
        greedy_bank(LocalRows::of_file(in.tail_features, "features", comm), {}, plan.tail_coreset,
                    comm, nullptr, kBankReadRows, in.checkpoint.branch("tail"));
    return merge_banks(tail, head);
  }
};

}  // namespace

std::unique_ptr<Method> make_tailedcore() { return std::make_unique<TailedCore>(); }

}  // namespace tc::models
