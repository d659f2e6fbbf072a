#include "tailedcore/index/torch_knn.h"

#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"

namespace tc::index {

TorchKnn::TorchKnn(const at::Tensor& bank, int64_t k, const c10::Device& device, int64_t budget_bytes) {
  TC_CHECK(bank.dim() == 2, "memory bank must be [rows, dim]: got ", bank.sizes());
  const int64_t m = bank.size(0), d = bank.size(1);
  TC_CHECK(m > 0, "memory bank is empty: nothing to search");
  TC_CHECK(k >= 1 && k <= m, "k = ", k, ": expected 1..", m, " (the bank's rows)");
  TC_CHECK(budget_bytes > 0, "kNN memory budget ", budget_bytes, " bytes: expected > 0");
  bank_ = bank.to(device, torch::kFloat32).contiguous();
  bank_sq_ = bank_.pow(2).sum(1);
  k_ = k;
  // Per query row: its distances to every bank row, its own d floats, and top-k's output.
  const int64_t per_row = static_cast<int64_t>(sizeof(float)) * (m + d + 2 * k);
  chunk_ = std::max<int64_t>(1, budget_bytes / per_row);
}

SearchResult TorchKnn::search(const at::Tensor& queries) const {
  TC_CHECK(queries.dim() == 2, "queries must be [rows, dim]: got ", queries.sizes());
  TC_CHECK(queries.size(1) == dim(), "queries have dimension ", queries.size(1), ": expected ", dim(),
           " (the memory bank's)");
  torch::NoGradGuard ng;
  const int64_t n = queries.size(0);
  auto dist = torch::empty({n, k_}, torch::kFloat32);
  auto idx = torch::empty({n, k_}, torch::kInt64);
  for (int64_t s = 0; s < n; s += chunk_) {
    const int64_t c = std::min(chunk_, n - s);
    const auto q = queries.narrow(0, s, c).to(bank_.device(), torch::kFloat32);
    // [c, m]: |q|^2 + |b|^2 - 2 q.b (addmm: beta * (|q|^2 + |b|^2) - 2 q b^T), clamped at 0.
    auto d2 = torch::addmm(q.pow(2).sum(1, /*keepdim=*/true) + bank_sq_.unsqueeze(0), q, bank_.t(),
                           /*beta=*/1, /*alpha=*/-2)
                  .clamp_min_(0);
    auto [v, i] = d2.topk(k_, /*dim=*/1, /*largest=*/false, /*sorted=*/true);
    dist.narrow(0, s, c).copy_(v);
    idx.narrow(0, s, c).copy_(i);
  }
  return {dist, idx};
}

}  // namespace tc::index
