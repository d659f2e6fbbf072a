#include "tailedcore/models/sharded_scorer.h"

#include <torch/torch.h>

#include <limits>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/io/hdf5.h"

namespace tc::models {

BankPlacement choose_bank_placement(int64_t rows, int64_t dim, double budget_bytes, int ranks) {
  const double bytes = static_cast<double>(rows) * static_cast<double>(dim) * 4.0;
  return budget_bytes > 0 && ranks > 1 && bytes > budget_bytes ? BankPlacement::kSharded
                                                                : BankPlacement::kReplicated;
}

ShardedScorer::ShardedScorer(MemoryBank local, int64_t first_row, const index::IndexOptions& opts, dist::Comm& comm)
    : local_(std::move(local)), first_row_(first_row), comm_(comm) {
  const int64_t total =
      comm.allreduce(torch::tensor({local_.rows()}, torch::kInt64), dist::ReduceOp::kSum).item<int64_t>();
  TC_CHECK(total > 0, "scores: the memory bank is empty");
  k_ = std::min(opts.k, total);
  if (local_.rows() > 0) nn_ = std::make_unique<index::NearestNeighbors>(local_.features, opts);
}

ShardedScorer::~ShardedScorer() = default;

at::Tensor ShardedScorer::score_patches(const at::Tensor& queries) const {
  const int64_t n = queries.size(0), k = k_;
  // This rank's k nearest (fewer rows than k: padded with +inf) and their weighted distances.
  auto d = torch::full({n, k}, std::numeric_limits<float>::infinity());
  auto wd = torch::zeros({n, k});
  if (nn_ && n > 0) {
    const auto found = nn_->search(queries);
    const int64_t kk = found.distances.size(1);
    d.narrow(1, 0, kk).copy_(found.distances);
    auto v = found.distances;
    if (local_.weights.defined()) v = v * local_.weights.index_select(0, found.indices.flatten()).view_as(v);
    wd.narrow(1, 0, kk).copy_(v);
  }
  // Every rank's candidates, [ranks, n, k] each; per query the k smallest
  // distances, the lower rank first among equal ones (a stable sort over
  // rank-major candidates).
  const int R = comm_.size();
  const auto all_d = comm_.allgather(d.unsqueeze(0)).permute({1, 0, 2}).reshape({n, R * k});
  const auto all_w = comm_.allgather(wd.unsqueeze(0)).permute({1, 0, 2}).reshape({n, R * k});
  const auto order = std::get<1>(all_d.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false)).narrow(1, 0, k);
  return all_w.gather(1, order).mean(1);
}

MemoryBank read_bank_block(const std::filesystem::path& path, dist::Comm& comm, int64_t& first_row) {
  io::H5Reader r(path);
  r.expect_shape("coreset", {-1, -1});
  const int64_t m = r.shape("coreset")[0];
  r.expect_shape("coreset_indices", {m});
  const auto mine = dist::shard_range(m, comm.rank(), comm.size());
  first_row = mine.begin;
  MemoryBank bank;
  bank.features = r.read_rows("coreset", mine.begin, mine.size()).to(torch::kFloat32);
  bank.source_rows = r.read_rows("coreset_indices", mine.begin, mine.size());
  if (r.has("weights")) {
    r.expect_shape("weights", {m});
    bank.weights = r.read_rows("weights", mine.begin, mine.size()).to(torch::kFloat32);
  }
  bank.tail_rows = r.has_attr("tail_rows") ? r.attr_int("tail_rows") : 0;
  return bank;
}

}  // namespace tc::models
