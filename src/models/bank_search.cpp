#include "tailedcore/models/bank_search.h"

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

ReplicatedBank::ReplicatedBank(MemoryBank bank, const index::IndexOptions& opts)
    : bank_(std::move(bank)),
      nn_(std::make_unique<index::NearestNeighbors>(bank_.features, opts)) {}

ReplicatedBank::~ReplicatedBank() = default;

Neighbours ReplicatedBank::nearest(const at::Tensor& queries, int64_t first_row) const {
  const auto found = nn_->search(queries, first_row);
  Neighbours out{found.distances, {}};
  if (bank_.weights.defined())
    out.weights = bank_.weights.index_select(0, found.indices.flatten()).view_as(found.distances);
  return out;
}

ShardedBank::ShardedBank(MemoryBank local, int64_t first_row, const index::IndexOptions& opts,
                         dist::Comm& comm)
    : local_(std::move(local)),
      first_row_(first_row),
      weighted_(local_.weights.defined()),  // one file read by every rank: the same everywhere
      comm_(comm) {
  const int64_t total =
      comm.allreduce(torch::tensor({local_.rows()}, torch::kInt64), dist::ReduceOp::kSum)
          .item<int64_t>();
  TC_CHECK(total > 0, "scores: the memory bank is empty");
  k_ = std::min(opts.k, total);
  const int64_t width = local_.features.defined() ? local_.features.size(1) : 0;
  dim_ =
      comm.allreduce(torch::tensor({width}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  if (local_.rows() > 0) nn_ = std::make_unique<index::NearestNeighbors>(local_.features, opts);
}

ShardedBank::~ShardedBank() = default;

Neighbours ShardedBank::local_nearest(const at::Tensor& queries, int64_t first_row) const {
  const int64_t n = queries.size(0), k = k_;
  Neighbours out{torch::full({n, k}, std::numeric_limits<float>::infinity()), {}};
  if (weighted_) out.weights = torch::zeros({n, k});
  if (nn_ && n > 0) {
    const auto found = nn_->search(queries, first_row);
    const int64_t kk = found.distances.size(1);
    out.distances.narrow(1, 0, kk).copy_(found.distances);
    if (weighted_)
      out.weights.narrow(1, 0, kk).copy_(
          local_.weights.index_select(0, found.indices.flatten()).view_as(found.distances));
  }
  return out;
}

Neighbours ShardedBank::nearest_own(const at::Tensor& queries, int64_t first_row) const {
  const int R = comm_.size(), me = comm_.rank();
  const int64_t k = k_, D = dim_, n = queries.size(0);
  TC_CHECK(n == 0 || queries.size(1) == D, "scores: queries of width ", queries.size(1),
           " for a bank of width ", D);
  // The block this rank holds: queries, and every rank's candidates in
  // rank-major columns (distances, then weights when the bank has them).
  auto q = n ? queries.to(torch::kFloat32).contiguous() : torch::empty({0, D});
  auto d = torch::full({n, R * k}, std::numeric_limits<float>::infinity());
  auto w = weighted_ ? torch::zeros({n, R * k}) : torch::empty({n, 0});
  const int64_t wk = w.size(1);
  const int next = (me + 1) % R, prev = (me + R - 1) % R;
  // Where each rank's block starts: at hop h this rank holds rank me - h's.
  const auto firsts = comm_.allgather(torch::tensor({first_row}, torch::kInt64));
  for (int hop = 0; hop < R; ++hop) {
    const auto local = local_nearest(q, firsts[(me - hop + R) % R].item<int64_t>());
    d.narrow(1, me * k, k).copy_(local.distances);
    if (weighted_) w.narrow(1, me * k, k).copy_(local.weights);
    // On to the next rank; after R searches the block is one hop before its
    // owner, and only the candidates travel the last hop.
    const bool home = hop == R - 1;
    const auto packed = home ? torch::cat({d, w}, 1) : torch::cat({q, d, w}, 1);
    std::vector<at::Tensor> parts(R, torch::empty({0, packed.size(1)}));
    parts[next] = packed;
    const auto got = comm_.alltoallv(parts)[prev];
    const int64_t off = home ? 0 : D;
    if (!home) q = got.narrow(1, 0, D).contiguous();
    d = got.narrow(1, off, R * k).contiguous();
    w = got.narrow(1, off + R * k, wk).contiguous();
  }
  // Per query the k smallest distances, the lower rank first among equal
  // ones (a stable sort over rank-major candidates).
  const auto order =
      std::get<1>(d.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false)).narrow(1, 0, k);
  Neighbours out{d.gather(1, order), {}};
  if (weighted_) out.weights = w.gather(1, order);
  return out;
}

MemoryBank read_bank_block(const std::filesystem::path& path, dist::Comm& comm,
                           int64_t& first_row) {
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
