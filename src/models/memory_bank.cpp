#include "tailedcore/models/memory_bank.h"

#include <torch/torch.h>

#include "tailedcore/core/check.h"
#include "tailedcore/io/hdf5.h"

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

}  // namespace tc::models
