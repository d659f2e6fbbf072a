// GreedyDeviceBlock in a build without CUDA: it exists and says why it cannot work.
#ifndef TAILEDCORE_WITH_CUDA

#include "tailedcore/core/check.h"
#include "tailedcore/sampling/greedy_device.h"

namespace tc::sampling {

struct GreedyDeviceBlock::Impl {};

GreedyDeviceBlock::GreedyDeviceBlock(const float*, int64_t, int64_t, int device) {
  TC_FAIL("greedy coreset on cuda:", device,
          ": tailedcore was built without CUDA (configure with -DTAILEDCORE_WITH_CUDA=ON)");
}
GreedyDeviceBlock::~GreedyDeviceBlock() = default;
void GreedyDeviceBlock::update_packed(const float*, int64_t, int32_t*) {}
DeviceBlockMax GreedyDeviceBlock::update(const float*) { return {0.f, -1}; }
void GreedyDeviceBlock::min_distances(float*) const {}
int64_t GreedyDeviceBlock::rows() const { return 0; }
int64_t GreedyDeviceBlock::dim() const { return 0; }

}  // namespace tc::sampling

#endif  // TAILEDCORE_WITH_CUDA
