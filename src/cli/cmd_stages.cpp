// The sampling stages on cached features (DESIGN.md "Artifacts"):
//   tailedcore tail    --in features.h5 --out tail.h5 [--th-type trim_min] [--vote mode]
//   tailedcore lof     --in features.h5 --out lof.h5 [--lof_k 6] [--lof_keep 0.85]
//                      [--greedy_proj_dim 128]
//   tailedcore coreset --in features.h5 --out coreset.h5 [--greedy_ratio 0.1]
//                      [--greedy_proj_dim 128|0] [--start-index I] [--seed S] [--weights lof.h5]
//                      [--checkpoint PREFIX]
// Options that are config keys carry the key's name, bind into the option
// struct the Plan builds from that key, default to the struct's default and
// are range-checked by the struct (validate), as a config's are.
// The input may come from anywhere (h5py): only its datasets are needed, and
// the grids where patch positions matter (lof: feature_h/feature_w, or /grids
// when the images' grids differ); our attributes are written, never required.
#include <torch/torch.h>

#include <cstdio>

#include "options.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/world.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/pipeline/artifacts.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/class_size_patchwise.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/tailed_lof.h"
#include "tailedcore/sampling/thresholds.h"
#include "tailedcore/sampling/votes.h"

namespace po = boost::program_options;

namespace tc::cli {
namespace {

// The config_hash an output carries: the input's, so the stage chain keeps
// its provenance; for a file made elsewhere (no config_hash, e.g. by h5py)
// "external-" and the digest of its bytes, which no run's config hash equals.
std::string provenance_hash(const std::string& in) {
  io::H5Reader r(in);
  if (r.has_attr("config_hash")) return r.attr_string("config_hash");
  return "external-" + io::hash_file(in);
}

// This rank's images' rows (dist::shard_range of the images) of an
// image-major dataset of patches on `grids`, as the run's LOF stage holds them.
torch::Tensor rank_images_rows(const io::H5Reader& r, const std::string& dataset,
                               const core::PatchGrids& grids, dist::Comm& comm) {
  const auto mine = dist::shard_range(grids.images(), comm.rank(), comm.size());
  if (mine.size() == 0) return torch::empty({0, r.shape(dataset)[1]});
  const int64_t first = grids.row_begin(mine.begin);
  auto x = r.read_rows(dataset, first, grids.row_begin(mine.end) - first).to(torch::kFloat32);
  io::check_finite_file_rows(r, dataset, x, first);
  return x;
}

template <class Body>
int guarded(int threads, Body body) {
  auto world = dist::init_world(nullptr, nullptr);
  return dist::run_guarded(*world, [&] {
    core::set_thread_count(threads);
    body(*world);
    return 0;
  });
}

}  // namespace

int cmd_tail(const Args& args) {
  std::string in, out, dataset = "embeddings", th_type, vote;
  sampling::ClassSizeOptions o;
  int threads = 0;
  po::options_description desc(
      "tailedcore tail: class sizes and tail images from global embeddings");
  desc.add_options()("help,h", "this help")("in", po::value(&in)->required(), "features.h5")(
      "out", po::value(&out)->required(), "tail.h5")(
      "th-type", po::value(&th_type)->default_value(sampling::threshold_name(o.threshold)),
      "symmin symavg indep half_min trim_min truncate_min max_step double_max_step")(
      "vote", po::value(&vote)->default_value(sampling::vote_name(o.vote)),
      "mean mode none nearest")("dataset", po::value(&dataset)->default_value("embeddings"),
                                "input dataset")(
      "block-rows", po::value(&o.block_rows)->default_value(o.block_rows),
      "similarity rows per block (0: N / ranks, at most 4096; the result does not depend on it)")(
      "threads", po::value(&threads)->default_value(0), "threads per rank");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  o.threshold = sampling::parse_threshold(th_type);  // bad names before the work, not after it
  o.vote = sampling::parse_vote(vote);
  io::check_output_file(out);
  return guarded(threads, [&](dist::Comm& comm) {
    const auto sel = sampling::select_tail(pipeline::read_features(in, dataset).patches, o, comm);
    if (comm.rank() != 0) return;
    pipeline::write_tail(out, provenance_hash(in), sel, o);
    std::printf("%s: %lld of %lld images in the tail (max_K %lld)\n", out.c_str(),
                static_cast<long long>(sel.tail_indices.size(0)),
                static_cast<long long>(sel.class_sizes.size(0)), static_cast<long long>(sel.max_k));
  });
}

int cmd_lof(const Args& args) {
  std::string in, out, dataset = "features", tailed_th_type;
  sampling::LofOptions o;
  int threads = 0;
  po::options_description desc("tailedcore lof: patch-wise LOF noise scores (SoftPatch)");
  desc.add_options()("help,h", "this help")("in", po::value(&in)->required(), "features.h5")(
      "out", po::value(&out)->required(), "lof.h5")("lof_k", po::value(&o.k)->default_value(o.k),
                                                    "neighbours")(
      "lof_keep", po::value(&o.keep_quantile)->default_value(o.keep_quantile),
      "keep scores below this quantile")("greedy_proj_dim",
                                         po::value(&o.proj_dim)->default_value(o.proj_dim),
                                         "random projection (0 = none)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "projection seed")(
      "dataset", po::value(&dataset)->default_value("features"), "input dataset")(
      "tailed", po::value(&tailed_th_type),
      "TailedLOF instead (LOF x few-shot score) with this patch-wise threshold: symmin, symavg or "
      "indep")("threads", po::value(&threads)->default_value(0), "threads per rank");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  // Bad values before the work, not after it.
  o.validate("tailedcore lof: --");
  sampling::Threshold tailed{};
  if (!tailed_th_type.empty()) {
    tailed = sampling::parse_threshold(tailed_th_type);
    sampling::check_patchwise(tailed, "tailedcore lof: --tailed " + tailed_th_type);
  }
  io::check_output_file(out);
  return guarded(threads, [&](dist::Comm& comm) {
    const io::H5Reader r(in);
    r.expect_shape(dataset, {-1, -1});
    const auto grids =
        pipeline::read_grids(r, r.shape(dataset)[0], "lof (one LOF per patch position)");
    const auto rows = rank_images_rows(r, dataset, grids, comm);
    const models::NoiseScores res =
        tailed_th_type.empty()
            ? models::NoiseScores{sampling::patchwise_lof(rows, grids, o, comm), "lof",
                                  models::projection_seed(o)}
            : models::NoiseScores{sampling::tailed_lof(rows, grids, o, tailed, comm), "tailed_lof",
                                  models::projection_seed(o)};
    if (comm.rank() != 0) return;
    pipeline::write_lof(out, provenance_hash(in), res);
    std::printf("%s: %lld of %lld patches kept\n", out.c_str(),
                static_cast<long long>(res.lof.kept_indices.size(0)),
                static_cast<long long>(res.lof.scores.size(0)));
  });
}

int cmd_coreset(const Args& args) {
  std::string in, out, dataset = "features", weights, checkpoint;
  double checkpoint_s = sampling::GreedyCheckpoint{}.interval_seconds;
  sampling::CoresetOptions o;
  int threads = 0;
  po::options_description desc("tailedcore coreset: greedy k-center memory bank");
  desc.add_options()("help,h", "this help")("in", po::value(&in)->required(), "features.h5")(
      "out", po::value(&out)->required(), "coreset.h5")("greedy_ratio",
                                                        po::value(&o.ratio)->default_value(o.ratio),
                                                        "fraction of rows kept, in (0, 1]")(
      "greedy_proj_dim", po::value(&o.proj_dim)->default_value(o.proj_dim),
      "random projection (0 = none)")("start-index",
                                      po::value(&o.start_index)->default_value(o.start_index),
                                      "first centre (-1: from the seed)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "projection and first-centre seed")(
      "dataset", po::value(&dataset)->default_value("features"), "input dataset")(
      "weights", po::value(&weights),
      "lof.h5: keep only its kept rows and weight them (SoftPatch)")(
      "checkpoint", po::value(&checkpoint),
      "keep the greedy's state in PREFIX.rank-<r>-of-<R>.ckpt; a rerun with the same input and "
      "options resumes there")("greedy_checkpoint_s",
                               po::value(&checkpoint_s)->default_value(checkpoint_s),
                               "seconds of greedy work between checkpoints")(
      "threads", po::value(&threads)->default_value(0), "threads per rank");
  po::variables_map vm;
  if (!parse_options(desc, args, vm)) return 0;
  o.validate("tailedcore coreset: --");  // before the work, not after it
  io::check_output_file(out);
  return guarded(threads, [&](dist::Comm& comm) {
    // Each rank reads its block of rows, projecting as it reads; only the
    // chosen rows are read again at full width (models::greedy_bank).
    torch::Tensor kept, scores;
    if (!weights.empty()) {
      const auto lof = pipeline::read_lof(weights, io::H5Reader(in).shape(dataset).at(0));
      kept = lof.kept_indices;
      scores = lof.scores;
    }
    // The greedy's identity: the input (its key or digest) and every option that changes the picks.
    const sampling::GreedyCheckpoint ck{
        checkpoint,
        checkpoint.empty() ? std::string()
                           : provenance_hash(in) + "/" + dataset + "/" + weights + "/" +
                                 std::to_string(o.ratio) + "/" + std::to_string(o.proj_dim) + "/" +
                                 std::to_string(o.start_index) + "/" + std::to_string(o.seed),
        checkpoint_s};
    auto bank = models::greedy_bank(models::LocalRows::of_file(in, dataset, comm), kept, o, comm,
                                    nullptr, models::kBankReadRows, ck);
    if (scores.defined()) bank.weights = scores.index_select(0, bank.source_rows);
    // The key only where it is written (an external input's digest reads the whole file).
    pipeline::write_bank(out, comm.rank() == 0 ? provenance_hash(in) : std::string(), bank,
                         weights.empty() ? "patchcore" : "softpatch", comm);
    if (comm.rank() != 0) return;
    ck.remove_files();
    std::printf("%s: %lld of %lld rows\n", out.c_str(), static_cast<long long>(bank.rows()),
                static_cast<long long>(kept.defined() ? kept.size(0)
                                                      : io::H5Reader(in).shape(dataset).at(0)));
  });
}

}  // namespace tc::cli
