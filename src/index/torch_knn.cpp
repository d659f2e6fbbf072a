#include "tailedcore/index/torch_knn.h"

#include <ATen/Context.h>
#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/cuda_device.h"

namespace tc::index {
namespace {

// TF32 for cuBLAS as the search asks, the process's setting again after it (also on a throw).
class Tf32Scope {
 public:
  Tf32Scope(bool on, bool cuda) : cuda_(cuda) {
    if (!cuda_) return;
    before_ = at::globalContext().allowTF32CuBLAS();
    at::globalContext().setAllowTF32CuBLAS(on);
  }
  ~Tf32Scope() {
    if (cuda_) at::globalContext().setAllowTF32CuBLAS(before_);
  }

 private:
  bool cuda_, before_ = false;
};

}  // namespace

TorchKnn::TorchKnn(const at::Tensor& bank, int64_t k, const c10::Device& device,
                   const KnnOptions& opts)
    : device_(device) {
  TC_CHECK(bank.dim() == 2, "memory bank must be [rows, dim]: got ", bank.sizes());
  rows_ = bank.size(0);
  dim_ = bank.size(1);
  TC_CHECK(rows_ > 0, "memory bank is empty: nothing to search");
  TC_CHECK(k >= 1 && k <= rows_, "k = ", k, ": expected 1..", rows_, " (the bank's rows)");
  TC_CHECK(opts.budget_bytes >= 0, "kNN memory budget ", opts.budget_bytes,
           " bytes: expected >= 0 (0: automatic)");
  k_ = k;
  tf32_ = opts.tf32;
  int64_t budget = opts.budget_bytes;
  if (budget == 0 && device.is_cuda()) budget = dist::cuda_free_bytes(device.index()) / 2;
  if (budget == 0) budget = int64_t{1} << 30;  // the CPU, or a device whose free memory is unknown
  const int64_t f = static_cast<int64_t>(sizeof(float));
  const int64_t bank_bytes = rows_ * (dim_ + 1) * f;  // rows and their squared norms
  if (bank_bytes <= budget / 2) {
    block_ = rows_;
    bank_ = bank.to(device, torch::kFloat32).contiguous();
  } else {
    block_ = std::clamp<int64_t>((budget / 2) / ((dim_ + 1) * f), 1, rows_);
    bank_ = bank.to(torch::kCPU, torch::kFloat32).contiguous();
  }
  bank_sq_ = bank_.pow(2).sum(1);
  // Per query row: its d floats and squared norm, a row of the distance block,
  // the block's k best and the running k best (values and int64 indices).
  const int64_t per_row = f * (dim_ + 1 + block_) + 2 * k_ * (f + 8);
  const int64_t left = budget - std::min(bank_bytes, block_ * (dim_ + 1) * f);
  chunk_ = std::max<int64_t>(1, left / per_row);
}

SearchResult TorchKnn::search(const at::Tensor& queries) const {
  TC_CHECK(queries.dim() == 2, "queries must be [rows, dim]: got ", queries.sizes());
  TC_CHECK(queries.size(1) == dim(), "queries have dimension ", queries.size(1), ": expected ",
           dim(), " (the memory bank's)");
  torch::NoGradGuard ng;
  const Tf32Scope tf32(tf32_, device_.is_cuda());
  const int64_t n = queries.size(0);
  auto dist = torch::empty({n, k_}, torch::kFloat32);
  auto idx = torch::empty({n, k_}, torch::kInt64);
  for (int64_t s = 0; s < n; s += chunk_) {
    const int64_t c = std::min(chunk_, n - s);
    const auto q = queries.narrow(0, s, c).to(device_, torch::kFloat32);
    const auto q_sq = q.pow(2).sum(1, /*keepdim=*/true);
    torch::Tensor best_d, best_i;  // [c, k] running best, ascending
    for (int64_t b0 = 0; b0 < rows_; b0 += block_) {
      const int64_t bl = std::min(block_, rows_ - b0);
      const auto bank = bank_.narrow(0, b0, bl).to(device_);
      const auto bank_sq = bank_sq_.narrow(0, b0, bl).to(device_);
      // [c, bl]: |q|^2 + |b|^2 - 2 q.b (addmm: beta * (|q|^2 + |b|^2) - 2 q b^T), clamped at 0.
      const auto d2 =
          torch::addmm(q_sq + bank_sq.unsqueeze(0), q, bank.t(), /*beta=*/1, /*alpha=*/-2)
              .clamp_min_(0);
      torch::Tensor v, i;
      if (k_ == 1) {
        std::tie(v, i) = d2.min(1, /*keepdim=*/true);
      } else {
        std::tie(v, i) = d2.topk(std::min(k_, bl), /*dim=*/1, /*largest=*/false, /*sorted=*/true);
      }
      i = i + b0;
      if (!best_d.defined()) {
        best_d = v, best_i = i;
      } else if (k_ == 1) {
        const auto closer = v < best_d;  // equal: the earlier block's (lower) row stays
        best_d = torch::where(closer, v, best_d);
        best_i = torch::where(closer, i, best_i);
      } else {
        const auto all_d = torch::cat({best_d, v}, 1), all_i = torch::cat({best_i, i}, 1);
        auto [mv, mi] = all_d.topk(k_, 1, /*largest=*/false, /*sorted=*/true);
        best_d = mv, best_i = all_i.gather(1, mi);
      }
    }
    dist.narrow(0, s, c).copy_(best_d);
    idx.narrow(0, s, c).copy_(best_i);
  }
  return {dist, idx};
}

}  // namespace tc::index
