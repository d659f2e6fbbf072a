#include "tailedcore/models/memory_bank.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>

#include "tailedcore/core/check.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/projection.h"

namespace tc::models {

MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head) {
  if (tail.rows() == 0) return head;
  if (head.rows() == 0) {
    MemoryBank out = tail;
    out.tail_rows = tail.rows();
    out.greedy_seed = -1;
    out.tail_greedy_seed = tail.greedy_seed;
    return out;
  }
  TC_ASSERT(tail.weights.defined() == head.weights.defined(), "both banks weighted or neither");
  MemoryBank out;
  out.features = torch::cat({tail.features, head.features});
  out.source_rows = torch::cat({tail.source_rows, head.source_rows});
  if (head.weights.defined()) out.weights = torch::cat({tail.weights, head.weights});
  out.tail_rows = tail.rows();
  out.greedy_seed = head.greedy_seed;
  out.tail_greedy_seed = tail.greedy_seed;
  return out;
}

namespace {

// Rows [first, first + count) of the bank's source, float32.
using RowReader = std::function<at::Tensor(int64_t first, int64_t count)>;

// Calls fn(first_row, block, begin, end) for every block of `block_rows` rows
// that holds at least one of `rows` (ascending); [begin, end) are the
// positions in `rows` of the rows in that block.
void for_blocks_holding(const RowReader& read, int64_t n, const at::Tensor& rows, int64_t block_rows,
                        const std::function<void(int64_t, const at::Tensor&, int64_t, int64_t)>& fn) {
  const auto row = rows.accessor<int64_t, 1>();
  const int64_t m = rows.size(0);
  for (int64_t s = 0, next = 0; s < n && next < m; s += block_rows) {
    const int64_t c = std::min(block_rows, n - s);
    int64_t end = next;
    while (end < m && row[end] < s + c) ++end;
    if (end == next) continue;
    fn(s, read(s, c), next, end);
    next = end;
  }
}

// The greedy bank over the candidate rows of an [n, dim] source read block by
// block: candidates are projected as read (the projection greedy_coreset
// applies, row for row), the greedy runs on the projected rows, and a second
// pass fetches only the chosen rows at full width.
MemoryBank greedy_bank_blockwise(const std::string& source, int64_t n, int64_t dim, const RowReader& read,
                                 const sampling::CoresetOptions& opts, dist::Comm& comm,
                                 const at::Tensor& subset, int64_t block_rows) {
  TC_CHECK(block_rows >= 1, "block_rows = ", block_rows, ": expected >= 1");
  const auto candidates = subset.defined() ? subset.to(torch::kInt64).contiguous()
                                           : torch::arange(n, torch::kInt64);
  const int64_t nc = candidates.size(0);
  if (nc == 0) return {};
  TC_CHECK(candidates.min().item<int64_t>() >= 0 && candidates.max().item<int64_t>() < n, source,
           ": a candidate row is outside its ", n, " rows");
  TC_CHECK(nc == 1 || (candidates.narrow(0, 1, nc - 1) > candidates.narrow(0, 0, nc - 1)).all().item<bool>(),
           "candidate rows of ", source, " must be ascending and distinct");
  const bool projects = opts.proj_dim > 0 && opts.proj_dim != dim;
  auto greedy_rows = torch::empty({nc, projects ? opts.proj_dim : dim}, torch::kFloat32);
  for_blocks_holding(read, n, candidates, block_rows,
                     [&](int64_t first, const at::Tensor& block, int64_t begin, int64_t end) {
                       const auto rows = block.index_select(0, candidates.narrow(0, begin, end - begin) - first);
                       greedy_rows.narrow(0, begin, end - begin)
                           .copy_(projects ? sampling::project(rows, opts.proj_dim, opts.seed) : rows);
                     });
  auto greedy_opts = opts;
  greedy_opts.proj_dim = 0;  // projected above (or none asked)
  const auto sel = sampling::greedy_coreset(greedy_rows, greedy_opts, comm);
  MemoryBank bank;
  bank.source_rows = candidates.index_select(0, sel);
  if (!projects) {
    bank.features = greedy_rows.index_select(0, sel);
    return bank;
  }
  greedy_rows = torch::Tensor();
  // Each chosen row goes to its place in the selection order (`order`:
  // selection positions sorted by source row).
  const auto [chosen, order] = bank.source_rows.sort();
  bank.features = torch::empty({chosen.size(0), dim}, torch::kFloat32);
  for_blocks_holding(read, n, chosen, block_rows,
                     [&](int64_t first, const at::Tensor& block, int64_t begin, int64_t end) {
                       bank.features.index_copy_(
                           0, order.narrow(0, begin, end - begin),
                           block.index_select(0, chosen.narrow(0, begin, end - begin) - first));
                     });
  return bank;
}

MemoryBank with_seed(MemoryBank bank, const sampling::CoresetOptions& opts) {
  if (bank.rows() > 0) bank.greedy_seed = static_cast<int64_t>(opts.seed);
  return bank;
}

}  // namespace

MemoryBank greedy_bank(const at::Tensor& rows, const at::Tensor& subset,
                       const sampling::CoresetOptions& opts, dist::Comm& comm, int64_t block_rows) {
  TC_CHECK(rows.dim() == 2, "greedy bank: rows must be [rows, dim]: got ", rows.sizes());
  if (rows.size(0) == 0) return {};
  const auto source = rows.to(torch::kFloat32).contiguous();
  if (!subset.defined()) {
    // Every row a candidate: greedy_coreset projects each rank's own rows only.
    MemoryBank bank;
    bank.source_rows = sampling::greedy_coreset(source, opts, comm);
    bank.features = source.index_select(0, bank.source_rows);
    return with_seed(std::move(bank), opts);
  }
  return with_seed(greedy_bank_blockwise(
                       "the feature rows", source.size(0), source.size(1),
                       [&](int64_t first, int64_t count) { return source.narrow(0, first, count); }, opts,
                       comm, subset, block_rows),
                   opts);
}

MemoryBank greedy_bank_from_file(const std::filesystem::path& path, const std::string& dataset,
                                 const sampling::CoresetOptions& opts, dist::Comm& comm,
                                 const at::Tensor& subset, int64_t block_rows) {
  const io::H5Reader r(path);
  const auto shape = r.shape(dataset);
  TC_CHECK(shape.size() == 2, path.string(), ": /", dataset, " must be [rows, dim]");
  return with_seed(greedy_bank_blockwise(
      path.string() + " /" + dataset, shape[0], shape[1],
      [&](int64_t first, int64_t count) {
        auto rows = r.read_rows(dataset, first, count).to(torch::kFloat32);
        io::check_finite_file_rows(r, dataset, rows, first);  // a NaN row would fill the bank
        return rows;
      },
      opts, comm, subset, block_rows), opts);
}

}  // namespace tc::models
