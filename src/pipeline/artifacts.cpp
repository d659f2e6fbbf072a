#include "tailedcore/pipeline/artifacts.h"

#include <torch/torch.h>

#include <memory>

#include "tailedcore/core/check.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/exchange.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/pipeline/feature_shards.h"
#include "tailedcore/sampling/class_size.h"

namespace tc::pipeline {
namespace fs = std::filesystem;

FeatureSet read_features(const fs::path& path, const std::string& dataset) {
  io::H5Reader r(path);
  r.expect_shape(dataset, {-1, -1});
  FeatureSet f;
  f.patches = r.read(dataset).to(torch::kFloat32);
  io::check_finite_file_rows(r, dataset, f.patches);  // before any stage sees a NaN row
  if (dataset != "embeddings" && r.has("embeddings")) {
    r.expect_shape("embeddings", {-1, -1});
    f.embeddings = r.read("embeddings").to(torch::kFloat32);
    io::check_finite_file_rows(r, "embeddings", f.embeddings);
  }
  // The grids describe patch rows: not the embeddings' one row an image.
  if (dataset != "embeddings" &&
      (r.has("grids") || (r.has_attr("feature_h") && r.has_attr("feature_w"))))
    f.grids = read_grids(r, f.patches.size(0), "reading /" + dataset);
  return f;
}

void write_grids(io::H5Writer& w, const core::PatchGrids& grids) {
  // Attributes for one grid: the files and h5py readers from before mixed sizes.
  if (grids.is_uniform() && grids.images() > 0) {
    w.set_attr("feature_h", grids.h(0));
    w.set_attr("feature_w", grids.w(0));
  } else {
    w.write("grids", grids.hw());
  }
}

core::PatchGrids read_grids(const io::H5Reader& r, int64_t rows, const std::string& what) {
  const std::string file = r.path().string();
  if (r.has("grids")) {
    r.expect_shape("grids", {-1, 2});
    const auto grids = core::PatchGrids::of(r.read("grids"));
    TC_CHECK(grids.rows() == rows, file, ": /grids gives ", grids.images(), " images of ",
             grids.rows(), " patches in all: expected the ", rows, " rows of the features");
    return grids;
  }
  TC_CHECK(r.has_attr("feature_h") && r.has_attr("feature_w"), file,
           ": attributes feature_h and feature_w (or a dataset /grids) are missing: ", what,
           " needs the patch grid (rows are image-major, h x w patches per image)");
  const int64_t h = r.attr_int("feature_h"), w = r.attr_int("feature_w");
  TC_CHECK(h > 0 && w > 0, file, ": feature_h x feature_w = ", h, " x ", w, ": expected > 0");
  TC_CHECK(rows % (h * w) == 0, file, ": ", rows,
           " rows: expected a whole number of images of feature_h x feature_w = ", h * w, " rows");
  return core::PatchGrids::uniform(rows / (h * w), h, w);
}

void write_tail(const fs::path& path, const std::string& key, const sampling::TailSelection& sel,
                const sampling::ClassSizeOptions& opts) {
  io::H5Writer w(path, "tail", key);
  w.write("class_sizes", sel.class_sizes);
  w.write("tail_indices",
          sel.tail_indices.numel() ? sel.tail_indices : torch::empty({0}, torch::kInt64));
  w.set_attr("th_type", std::string(sampling::threshold_name(opts.threshold)));
  w.set_attr("vote_type", std::string(sampling::vote_name(opts.vote)));
  w.set_attr("max_k", sel.max_k);
  w.commit();
}

at::Tensor read_tail_indices(const fs::path& path) {
  io::H5Reader r(path);
  r.expect_shape("tail_indices", {-1});
  return r.read("tail_indices").to(torch::kInt64);
}

void write_lof(const fs::path& path, const std::string& key, const models::NoiseScores& s) {
  io::H5Writer w(path, "lof", key);
  w.write("lof_scores", s.lof.scores);
  w.write("kept_indices", s.lof.kept_indices);
  w.set_attr("filter", s.filter);
  if (s.projection_seed >= 0) w.set_attr("projection_seed", s.projection_seed);
  w.commit();
}

sampling::LofResult read_lof(const fs::path& path, int64_t rows) {
  io::H5Reader r(path);
  r.expect_shape("lof_scores", {rows});
  r.expect_shape("kept_indices", {-1});
  return {r.read("lof_scores").to(torch::kFloat32), r.read("kept_indices").to(torch::kInt64)};
}

void write_bank(const fs::path& path, const std::string& key, const models::MemoryBank& bank,
                const std::string& method, dist::Comm& comm) {
  const int64_t m = bank.rows();  // the same on every rank (source_rows)
  TC_CHECK(m > 0, path.string(), ": refusing to save an empty memory bank");
  const int64_t width =
      bank.features.defined() && bank.features.dim() == 2 ? bank.features.size(1) : 0;
  const int64_t dim =
      comm.allreduce(torch::tensor({width}, torch::kInt64), dist::ReduceOp::kMax).item<int64_t>();
  std::unique_ptr<io::H5Writer> w;
  if (comm.rank() == 0) {
    w = std::make_unique<io::H5Writer>(path, "coreset", key);
    w->create("coreset", io::DType::kFloat32, {m, dim});
  }
  if (!bank.positions.defined()) {
    // The whole bank in order (on rank 0).
    if (w) w->write_rows("coreset", 0, bank.features.to(torch::kFloat32).contiguous());
  } else {
    // Spread over the ranks: each block of bank rows is gathered to rank 0
    // and written, so no rank ever holds more than a block of them.
    constexpr int64_t kBlock = models::kBankReadRows;
    // This rank's rows in bank order once: each block is then one range of them.
    const auto [positions, order] = bank.positions.sort();
    int64_t lo = 0;
    for (int64_t s = 0; s < m; s += kBlock) {
      const int64_t c = std::min(kBlock, m - s);
      const int64_t hi =
          torch::searchsorted(positions, torch::tensor({s + c}, torch::kInt64)).item<int64_t>();
      const auto mine = order.narrow(0, lo, hi - lo);
      const auto rows =
          dist::gather_to(comm, bank.features.index_select(0, mine).to(torch::kFloat32), 0);
      const auto where = dist::gather_to(comm, positions.narrow(0, lo, hi - lo), 0);
      lo = hi;
      if (!w) continue;
      TC_ASSERT(rows.size(0) == c, path.string(), ": ", rows.size(0),
                " bank rows gathered for rows ", s, "..", s + c);
      auto block = torch::empty({c, dim}, torch::kFloat32);
      block.index_copy_(0, where - s, rows);
      w->write_rows("coreset", s, block);
    }
  }
  if (!w) return;
  w->write("coreset_indices", bank.source_rows.to(torch::kInt64));
  if (bank.weights.defined()) w->write("weights", bank.weights.to(torch::kFloat32));
  w->set_attr("tail_rows", bank.tail_rows);
  w->set_attr("model", method);
  if (bank.greedy_seed >= 0) w->set_attr("greedy_seed", bank.greedy_seed);
  if (bank.tail_greedy_seed >= 0) w->set_attr("tail_greedy_seed", bank.tail_greedy_seed);
  if (bank.greedy_visits_per_step >= 0) {
    w->set_attr("greedy_rows", bank.greedy_rows);
    w->set_attr("greedy_rows_visited_per_step", bank.greedy_visits_per_step);
  }
  if (bank.tail_greedy_visits_per_step >= 0) {
    w->set_attr("tail_greedy_rows", bank.tail_greedy_rows);
    w->set_attr("tail_greedy_rows_visited_per_step", bank.tail_greedy_visits_per_step);
  }
  w->commit();
}

models::MemoryBank read_bank(const fs::path& path) {
  io::H5Reader r(path);
  r.expect_shape("coreset", {-1, -1});
  models::MemoryBank bank;
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

TestFeaturesReader::TestFeaturesReader(const fs::path& path) : r_(path) {}

std::pair<int64_t, int64_t> TestFeaturesReader::grid(const std::string& cls) const {
  if (r_.has(cls + "/grid")) {
    r_.expect_shape(cls + "/grid", {2});
    const auto g = r_.read(cls + "/grid").to(torch::kInt64);
    return {g[0].item<int64_t>(), g[1].item<int64_t>()};
  }
  return {r_.attr_int("feature_h"), r_.attr_int("feature_w")};
}

FeatureSet TestFeaturesReader::images(const std::string& cls, int64_t first, int64_t count) const {
  const auto [h, w] = grid(cls);
  FeatureSet f;
  f.grids = core::PatchGrids::uniform(count, h, w);
  f.patches = r_.read_rows(cls + "/features", first * h * w, count * h * w).to(torch::kFloat32);
  f.masks = r_.read_rows(cls + "/gt_masks", first, count);
  return f;
}

at::Tensor TestFeaturesReader::masks(const std::string& cls) const {
  return r_.read(cls + "/gt_masks");
}
std::vector<std::string> TestFeaturesReader::image_paths(const std::string& cls) const {
  return r_.read_strings(cls + "/image_paths");
}

void write_class_predictions(io::H5Writer& w, const models::ClassPredictions& p) {
  const auto& c = p.class_name;
  w.write(c + "/image_scores", p.image_scores.to(torch::kFloat32).contiguous());
  w.write(c + "/anomaly_maps", p.maps.to(torch::kFloat32).contiguous());
  w.write(c + "/labels", p.labels.to(torch::kUInt8).contiguous());
  w.write(c + "/gt_masks", p.masks.to(torch::kUInt8).contiguous());
  w.write_strings(c + "/image_paths", p.image_paths);
}

models::ClassPredictions read_class_predictions(const io::H5Reader& r,
                                                const std::string& class_name) {
  const auto& c = class_name;
  models::ClassPredictions p;
  p.class_name = c;
  p.image_scores = r.read(c + "/image_scores").to(torch::kFloat32);
  p.maps = r.read(c + "/anomaly_maps").to(torch::kFloat32);
  p.labels = r.read(c + "/labels");
  p.masks = r.read(c + "/gt_masks");
  p.image_paths = r.read_strings(c + "/image_paths");
  return p;
}

std::vector<models::ClassPredictions> read_scores(const fs::path& path,
                                                  const std::vector<std::string>& classes) {
  io::H5Reader r(path);
  std::vector<models::ClassPredictions> out;
  for (const auto& c : classes) out.push_back(read_class_predictions(r, c));
  return out;
}

}  // namespace tc::pipeline
