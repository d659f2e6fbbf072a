#include "tailedcore/index/nearest.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <torch/torch.h>

#include <cmath>

#include "tailedcore/core/check.h"
#include "tailedcore/index/faiss_compat.h"
#include "tailedcore/index/torch_knn.h"

namespace tc::index {

struct NearestNeighbors::Impl {
  std::unique_ptr<faiss::IndexFlatL2> quantizer;
  std::unique_ptr<faiss::Index> index;
  std::unique_ptr<TorchKnn>
      gpu;  // flat search on the GPU (opts.cuda_device >= 0) instead of `index`
  int64_t k = 1;
  int64_t query_batch = 16384;
};

namespace {

torch::Tensor as_float_rows(const at::Tensor& t, const char* what) {
  TC_CHECK(t.dim() == 2, what, " must be [rows, dim]: got ", t.sizes());
  return t.to(torch::kCPU, torch::kFloat32).contiguous();
}

}  // namespace

const core::NameTable<IndexType>& index_types() {
  static const core::NameTable<IndexType> table(
      {{IndexType::kFlat, "flat"}, {IndexType::kIvf, "ivf"}});
  return table;
}

void IndexOptions::validate(const std::string& prefix) const {
  TC_CHECK(k >= 1, prefix, "faiss_k_neighbor = ", k, ": expected >= 1");
}

NearestNeighbors::NearestNeighbors(const at::Tensor& bank_in, const IndexOptions& opts)
    : impl_(std::make_unique<Impl>()) {
  const torch::Tensor bank = as_float_rows(bank_in, "memory bank");
  const int64_t m = bank.size(0), d = bank.size(1);
  TC_CHECK(m > 0, "memory bank is empty: nothing to search");
  opts.validate("");
  impl_->k = std::min<int64_t>(opts.k, m);
  impl_->query_batch = std::max<int64_t>(1, opts.query_batch);
  if (opts.type == IndexType::kFlat && opts.cuda_device >= 0) {
    KnnOptions knn;
    knn.tf32 = opts.tf32;
    impl_->gpu =
        std::make_unique<TorchKnn>(bank, impl_->k, c10::Device(c10::kCUDA, opts.cuda_device), knn);
    return;
  }
  if (opts.type == IndexType::kFlat) {
    impl_->index = std::make_unique<faiss::IndexFlatL2>(d);
  } else {
    int64_t lists = opts.ivf_lists > 0
                        ? opts.ivf_lists
                        : std::max<int64_t>(1, 4 * static_cast<int64_t>(std::sqrt(m)));
    lists = std::min(lists, m);
    impl_->quantizer = std::make_unique<faiss::IndexFlatL2>(d);
    auto ivf = std::make_unique<faiss::IndexIVFFlat>(impl_->quantizer.get(), d, lists);
    ivf->nprobe = std::min<int64_t>(opts.ivf_probe, lists);
    ivf->cp.seed = static_cast<int>(opts.seed);
    ivf->train(m, bank.data_ptr<float>());
    impl_->index = std::move(ivf);
  }
  impl_->index->add(m, bank.data_ptr<float>());
}

NearestNeighbors::~NearestNeighbors() = default;

SearchResult NearestNeighbors::search(const at::Tensor& queries_in, int64_t first_row) const {
  const torch::Tensor q = as_float_rows(queries_in, "queries");
  TC_CHECK(q.size(1) == dim(), "queries have dimension ", q.size(1), ": expected ", dim(),
           " (the memory bank's)");
  if (impl_->gpu) return impl_->gpu->search(q);
  const int64_t n = q.size(0), k = impl_->k;
  auto dist = torch::empty({n, k}, torch::kFloat32);
  auto idx = torch::empty({n, k}, torch::kInt64);
  static_assert(sizeof(faiss_idx_t) == sizeof(int64_t), "faiss index type must be 64-bit");
  TC_CHECK(first_row >= 0, "search: first query row ", first_row, " is negative");
  constexpr int64_t C = kSearchRows;
  const int64_t first = first_row, end = first_row + n;
  auto call = torch::empty({C, q.size(1)}, torch::kFloat32);
  auto call_dist = torch::empty({C, k}, torch::kFloat32);
  auto call_idx = torch::empty({C, k}, torch::kInt64);
  for (int64_t c = first / C; c * C < end; ++c) {
    const int64_t lo = std::max(c * C, first), hi = std::min(c * C + C, end);
    if (hi - lo < C) call.zero_();
    call.narrow(0, lo - c * C, hi - lo).copy_(q.narrow(0, lo - first, hi - lo));
    impl_->index->search(C, call.data_ptr<float>(), k, call_dist.data_ptr<float>(),
                         reinterpret_cast<faiss_idx_t*>(call_idx.data_ptr<int64_t>()));
    dist.narrow(0, lo - first, hi - lo).copy_(call_dist.narrow(0, lo - c * C, hi - lo));
    idx.narrow(0, lo - first, hi - lo).copy_(call_idx.narrow(0, lo - c * C, hi - lo));
  }
  return {dist, idx};
}

int64_t NearestNeighbors::bank_rows() const {
  return impl_->gpu ? impl_->gpu->bank_rows() : impl_->index->ntotal;
}
int64_t NearestNeighbors::dim() const { return impl_->gpu ? impl_->gpu->dim() : impl_->index->d; }
int64_t NearestNeighbors::k() const { return impl_->k; }

double recall_at_1(const at::Tensor& bank, const at::Tensor& queries, const IndexOptions& opts) {
  IndexOptions exact = opts;
  exact.type = IndexType::kFlat;
  exact.k = 1;
  IndexOptions approx = opts;
  approx.k = 1;
  const auto truth = NearestNeighbors(bank, exact).search(queries);
  const auto got = NearestNeighbors(bank, approx).search(queries);
  // A different row at the same distance (duplicates) is not a miss.
  const auto hit = (got.indices == truth.indices) | (got.distances <= truth.distances);
  return hit.to(torch::kFloat64).mean().item<double>();
}

}  // namespace tc::index
