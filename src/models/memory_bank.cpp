#include "tailedcore/models/memory_bank.h"

#include <torch/torch.h>

#include <algorithm>

#include "tailedcore/core/check.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/projection.h"

namespace tc::models {

void save_bank(const std::filesystem::path& path, const MemoryBank& bank, const std::string& model,
               const std::string& config_hash) {
  TC_CHECK(bank.rows() > 0, path.string(), ": refusing to save an empty memory bank");
  io::H5Writer w(path, "coreset", config_hash);
  w.write("coreset", bank.features.to(torch::kFloat32));
  w.write("coreset_indices", bank.source_rows.to(torch::kInt64));
  if (bank.weights.defined()) w.write("weights", bank.weights.to(torch::kFloat32));
  w.set_attr("tail_rows", bank.tail_rows);
  w.set_attr("model", model);
  w.commit();
}

MemoryBank load_bank(const std::filesystem::path& path) {
  io::H5Reader r(path);
  r.expect_shape("coreset", {-1, -1});
  MemoryBank bank;
  bank.features = r.read("coreset").to(torch::kFloat32);
  const int64_t m = bank.features.size(0);
  r.expect_shape("coreset_indices", {m});
  bank.source_rows = r.read("coreset_indices");
  if (r.has("weights")) {
    r.expect_shape("weights", {m});
    bank.weights = r.read("weights").to(torch::kFloat32);
  }
  bank.tail_rows = r.has_attr("tail_rows") ? r.attr_int("tail_rows") : 0;
  return bank;
}

MemoryBank merge_banks(const MemoryBank& tail, const MemoryBank& head) {
  if (tail.rows() == 0) return head;
  if (head.rows() == 0) return {tail.features, tail.weights, tail.source_rows, tail.rows()};
  TC_ASSERT(tail.weights.defined() == head.weights.defined(), "both banks weighted or neither");
  MemoryBank out;
  out.features = torch::cat({tail.features, head.features});
  out.source_rows = torch::cat({tail.source_rows, head.source_rows});
  if (head.weights.defined()) out.weights = torch::cat({tail.weights, head.weights});
  out.tail_rows = tail.rows();
  return out;
}

MemoryBank greedy_bank(const at::Tensor& rows, const at::Tensor& source_rows,
                       const sampling::CoresetOptions& opts, dist::Comm& comm) {
  MemoryBank bank;
  if (rows.size(0) == 0) return bank;
  const auto sel = sampling::greedy_coreset(rows, opts, comm);
  bank.features = rows.index_select(0, sel);
  bank.source_rows = source_rows.defined() ? source_rows.index_select(0, sel) : sel;
  return bank;
}

MemoryBank greedy_bank_from_file(const std::filesystem::path& path, const std::string& dataset,
                                 const sampling::CoresetOptions& opts, dist::Comm& comm,
                                 int64_t block_rows) {
  TC_CHECK(block_rows >= 1, "block_rows = ", block_rows, ": expected >= 1");
  const io::H5Reader r(path);
  const auto shape = r.shape(dataset);
  TC_CHECK(shape.size() == 2, path.string(), ": /", dataset, " must be [rows, dim]");
  const int64_t n = shape[0], dim = shape[1];
  if (n == 0) return {};
  if (opts.proj_dim <= 0 || opts.proj_dim == dim) return greedy_bank(r.read(dataset), {}, opts, comm);
  auto projected = torch::empty({n, opts.proj_dim}, torch::kFloat32);
  for (int64_t s = 0; s < n; s += block_rows) {
    const int64_t c = std::min(block_rows, n - s);
    projected.narrow(0, s, c).copy_(sampling::project(r.read_rows(dataset, s, c), opts.proj_dim, opts.seed));
  }
  auto already_projected = opts;
  already_projected.proj_dim = 0;
  MemoryBank bank;
  bank.source_rows = sampling::greedy_coreset(projected, already_projected, comm);
  projected = torch::Tensor();
  // Second read, block by block: each chosen row goes to its place in the
  // selection order (`order`: selection positions sorted by row).
  const auto [sorted_rows, order] = bank.source_rows.sort();
  const int64_t m = sorted_rows.size(0);
  const auto row_of = sorted_rows.accessor<int64_t, 1>();
  bank.features = torch::empty({m, dim}, torch::kFloat32);
  for (int64_t s = 0, next = 0; s < n && next < m; s += block_rows) {
    const int64_t c = std::min(block_rows, n - s);
    int64_t end = next;
    while (end < m && row_of[end] < s + c) ++end;
    if (end == next) continue;
    const auto block = r.read_rows(dataset, s, c).to(torch::kFloat32);
    bank.features.index_copy_(0, order.narrow(0, next, end - next),
                              block.index_select(0, sorted_rows.narrow(0, next, end - next) - s));
    next = end;
  }
  return bank;
}

}  // namespace tc::models
