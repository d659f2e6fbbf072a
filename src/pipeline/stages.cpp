#include "tailedcore/pipeline/stages.h"

#include <torch/torch.h>

#include <exception>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/data/augment.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/loader.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/eval/normalize.h"
#include "tailedcore/exp/config.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/features/embedder.h"
#include "tailedcore/io/feature_rows.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/models/memory_bank.h"
#include "tailedcore/models/scorer.h"
#include "tailedcore/pipeline/feature_source.h"
#include "tailedcore/pipeline/scores_file.h"
#include "tailedcore/pipeline/stage_cache.h"
#include "tailedcore/sampling/class_size.h"
#include "tailedcore/sampling/coreset.h"
#include "tailedcore/sampling/lof.h"
#include "tailedcore/sampling/projection.h"
#include "tailedcore/sampling/tailed_lof.h"

namespace tc::pipeline {

StageTimer::StageTimer(RunSummary& summary, std::string name)
    : summary_(summary),
      name_(std::move(name)),
      start_(std::chrono::steady_clock::now()),
      exceptions_(std::uncaught_exceptions()) {
  core::log_info("stage ", name_, " ...");
}

StageTimer::~StageTimer() {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (std::uncaught_exceptions() > exceptions_) {  // unwinding: the stage did not finish
    core::log_error("stage ", name_, " failed after ", s, " s");
    return;
  }
  summary_.stage_seconds.emplace_back(name_, s);
  core::log_info("stage ", name_, " done in ", s, " s");
}

namespace {

// Seeds of the independent random draws of one run (the reference draws a fresh
// projection per sampler call): distinct, fixed, and the same on every rank.
constexpr uint64_t kLofStream = 1, kHeadGreedyStream = 2, kTailGreedyStream = 3;
uint64_t stream_seed(const exp::Config& cfg, uint64_t stream) {
  return static_cast<uint64_t>(cfg.seed) * 1000003ull + stream;
}

bool wants_tail_branch(const exp::Config& cfg) {
  return cfg.model.coreset_model_name == "tailedcore" && !cfg.model.tail_th_type.empty();
}
bool wants_lof(const exp::Config& cfg) { return cfg.model.coreset_model_name != "patchcore"; }

sampling::CoresetOptions coreset_options(const exp::Config& cfg, uint64_t stream) {
  sampling::CoresetOptions o;
  o.ratio = cfg.model.greedy_ratio;
  o.proj_dim = cfg.model.greedy_proj_dim;
  o.seed = stream_seed(cfg, stream);
  return o;
}

// ---- stage: features ----------------------------------------------------------

void write_features(StageContext& ctx, const Extracted& ex) {
  if (ctx.comm.rank() != 0) return;
  write_features_h5(ctx.feature_cache.path("features"), ctx.feature_cache.config_hash(), ex, ctx.train,
                    ctx.cfg.model.feature_dtype, ctx.backbone);
}

struct TrainFeatures {
  torch::Tensor patches;     // [N * P, D] float32
  torch::Tensor embeddings;  // [N, E] or undefined
  int64_t h = 0, w = 0;
  int64_t per_image() const { return h * w; }
};

TrainFeatures load_features(const StageCache& cache) {
  io::H5Reader r(cache.path("features"));
  TrainFeatures f;
  f.patches = r.read("features").to(torch::kFloat32);
  io::check_finite_file_rows(r, "features", f.patches);  // before any stage sees a NaN row
  if (r.has("embeddings")) {
    f.embeddings = r.read("embeddings").to(torch::kFloat32);
    io::check_finite_file_rows(r, "embeddings", f.embeddings);
  }
  f.h = r.attr_int("feature_h");
  f.w = r.attr_int("feature_w");
  return f;
}

// ---- stage: tail ----------------------------------------------------------------

torch::Tensor tail_stage(StageContext& ctx, const TrainFeatures& f) {
  if (!ctx.cache.done("tail")) {
    StageTimer t(ctx.summary, "tail");
    TC_CHECK(f.embeddings.defined(), ctx.feature_cache.path("features").string(),
             ": /embeddings is missing: tailedcore needs embedding_to_extract_from: avgpool");
    auto opts = sampling::class_size_options_from_config(ctx.cfg.model.tail_th_type);
    auto sel = sampling::select_tail(f.embeddings, opts, ctx.comm);
    if (ctx.comm.rank() == 0) {
      io::H5Writer w(ctx.cache.path("tail"), "tail", ctx.cache.config_hash());
      w.write("class_sizes", sel.class_sizes);
      w.write("tail_indices", sel.tail_indices.numel() ? sel.tail_indices
                                                        : torch::empty({0}, torch::kInt64));
      w.set_attr("th_type", opts.th_type);
      w.set_attr("vote_type", opts.vote);
      w.set_attr("max_k", sel.max_k);
      w.commit();
    }
    ctx.comm.barrier();
  }
  return io::H5Reader(ctx.cache.path("tail")).read("tail_indices");
}

// ---- stage: lof -------------------------------------------------------------------

struct LofScores {
  torch::Tensor scores;  // [N * P]
  torch::Tensor kept;    // int64 ascending
};

LofScores lof_stage(StageContext& ctx, const TrainFeatures& f) {
  if (!ctx.cache.done("lof")) {
    StageTimer t(ctx.summary, "lof");
    sampling::LofOptions o;
    o.k = ctx.cfg.model.lof_k;
    o.keep_quantile = ctx.cfg.model.lof_keep;
    o.proj_dim = ctx.cfg.model.greedy_proj_dim;
    o.seed = stream_seed(ctx.cfg, kLofStream);
    // TailedCore with tail_lof: TailedLOF (LOF x few-shot score) replaces LOF.
    const bool tailed = ctx.cfg.model.tail_lof && ctx.cfg.model.coreset_model_name == "tailedcore";
    auto res = tailed ? sampling::tailed_lof(f.patches, f.per_image(), o, ctx.cfg.model.tail_th_type, ctx.comm)
                      : sampling::patchwise_lof(f.patches, f.per_image(), o, ctx.comm);
    if (ctx.comm.rank() == 0)
      sampling::save_lof(ctx.cache.path("lof"), res, tailed ? "tailed_lof" : "lof", ctx.cache.config_hash());
    ctx.comm.barrier();
  }
  io::H5Reader r(ctx.cache.path("lof"));
  return {r.read("lof_scores"), r.read("kept_indices")};
}

// ---- stage: tail_features -------------------------------------------------------

void tail_features_stage(StageContext& ctx, FeatureSource& source, const TrainFeatures& f,
                         const torch::Tensor& tail) {
  if (ctx.cache.done("tail_features")) return;
  StageTimer t(ctx.summary, "tail_features");
  const auto spec = data::augment_spec(ctx.cfg.model.tail_data_augment_type);
  const int64_t P = f.per_image();
  // The tail images' own rows first (ascending image order), then the views,
  // written as they come: at full scale the views outgrow memory (DESIGN
  // "Known hazards"), so no rank holds more than one round of them.
  const auto rows = (tail.view({-1, 1}) * P + torch::arange(P).view({1, -1})).flatten();
  const int64_t own_rows = rows.size(0), view_rows = own_rows * spec.views();
  std::unique_ptr<io::H5Writer> w;
  if (ctx.comm.rank() == 0) {
    w = std::make_unique<io::H5Writer>(ctx.cache.path("tail_features"), "tail_features",
                                       ctx.cache.config_hash());
    w->create("features", io::DType::kFloat32, {own_rows + view_rows, f.patches.size(1)});
    w->write_rows("features", 0, f.patches.index_select(0, rows));
  }
  int64_t written = own_rows;
  source.tail_views(ctx.train, tail, spec, ctx.comm, [&](const torch::Tensor& round) {
    if (w && round.size(0) > 0) w->write_rows("features", written, round);
    written += round.size(0);
  });
  TC_ASSERT(written == own_rows + view_rows, "tail views: ", written - own_rows, " rows, expected ",
            view_rows);
  if (w) {
    w->write("tail_indices", tail);
    w->set_attr("augment", spec.name);
    w->set_attr("views_per_image", spec.views());
    w->commit();
  }
  ctx.comm.barrier();
}

// ---- stage: coreset ---------------------------------------------------------------

void coreset_stage(StageContext& ctx, const TrainFeatures& f, const LofScores* lof,
                   const torch::Tensor* tail) {
  if (ctx.cache.done("coreset")) return;
  StageTimer t(ctx.summary, "coreset");
  const auto& model = ctx.cfg.model.coreset_model_name;
  models::MemoryBank bank;
  if (model == "patchcore") {
    bank = models::greedy_bank(f.patches, {}, coreset_options(ctx.cfg, kHeadGreedyStream), ctx.comm);
  } else {
    TC_ASSERT(lof != nullptr);
    bank = models::greedy_bank(f.patches, lof->kept, coreset_options(ctx.cfg, kHeadGreedyStream), ctx.comm);
    if (model == "softpatch") bank.weights = lof->scores.index_select(0, bank.source_rows);
  }
  if (tail != nullptr) {
    auto tail_bank = models::greedy_bank_from_file(ctx.cache.path("tail_features"), "features",
                                                   coreset_options(ctx.cfg, kTailGreedyStream), ctx.comm);
    bank = models::merge_banks(tail_bank, bank);
  }
  if (ctx.comm.rank() == 0) models::save_bank(ctx.cache.path("coreset"), bank, model, ctx.cache.config_hash());
  ctx.comm.barrier();
}

// ---- stage: scores ----------------------------------------------------------------

void test_features_stage(StageContext& ctx, FeatureSource& source) {
  if (ctx.feature_cache.done("test_features")) return;
  StageTimer t(ctx.summary, "test_features");
  std::unique_ptr<io::H5Writer> w;
  if (ctx.comm.rank() == 0)
    w = std::make_unique<io::H5Writer>(ctx.feature_cache.path("test_features"), "test_features",
                                       ctx.feature_cache.config_hash());
  int64_t h = 0, wd = 0;
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    auto local = source.test_features(records, ctx.comm);
    auto patches = ctx.comm.allgatherv(local.patches);
    auto masks = ctx.comm.allgatherv(local.masks);
    h = local.h;
    wd = local.w;
    if (!w) continue;
    const auto dtype = io::parse_dtype(ctx.cfg.model.feature_dtype);
    w->create(cls + "/features", dtype, {patches.size(0), patches.size(1)});
    w->write_rows(cls + "/features", 0, patches);
    w->write(cls + "/gt_masks", masks);
    std::vector<std::string> paths;
    for (const auto& r : records) paths.push_back(r.path);
    w->write_strings(cls + "/image_paths", paths);
  }
  if (w) {
    w->set_attr("feature_h", h);
    w->set_attr("feature_w", wd);
    w->commit();
  }
  ctx.comm.barrier();
}

void scores_stage(StageContext& ctx) {
  if (ctx.cache.done("scores")) return;
  StageTimer t(ctx.summary, "scores");
  models::Scorer scorer(models::load_bank(ctx.cache.path("coreset")), [&] {
    index::IndexOptions o;
    o.type = ctx.cfg.model.index;
    o.k = ctx.cfg.model.faiss_k_neighbor;
    o.seed = static_cast<uint64_t>(ctx.cfg.seed);
    return o;
  }());
  io::H5Reader test(ctx.feature_cache.path("test_features"));
  const int64_t h = test.attr_int("feature_h"), wd = test.attr_int("feature_w");
  std::unique_ptr<io::H5Writer> w;
  if (ctx.comm.rank() == 0)
    w = std::make_unique<io::H5Writer>(ctx.cache.path("scores"), "scores", ctx.cache.config_hash());
  if (w && ctx.cfg.model.index == "ivf") {
    // What approximate search costs: recall@1 against exact search on the
    // first class's test patches (up to 4096), in the log and as an attribute.
    const auto& first = ctx.catalog.classes().front();
    const int64_t rows = std::min<int64_t>(4096, test.shape(first + "/features")[0]);
    index::IndexOptions o;
    o.type = "ivf";
    o.seed = static_cast<uint64_t>(ctx.cfg.seed);
    const double recall = index::recall_at_1(scorer.bank().features,
                                             test.read_rows(first + "/features", 0, rows).to(torch::kFloat32), o);
    core::log_info("IVF index: recall@1 ", recall, " against exact search on ", rows, " test patches");
    w->set_attr("ivf_recall_at_1", recall);
  }
  for (const auto& cls : ctx.catalog.classes()) {
    const auto records = ctx.catalog.test_set(cls);
    const int64_t n = static_cast<int64_t>(records.size());
    const auto mine = dist::shard_range(n, ctx.comm.rank(), ctx.comm.size());
    // This rank's images: rows [begin * h * w, end * h * w) of the class's features.
    const auto patches =
        test.read_rows(cls + "/features", mine.begin * h * wd, mine.size() * h * wd).to(torch::kFloat32);
    const auto masks = test.read_rows(cls + "/gt_masks", mine.begin, mine.size());
    auto patch_scores = patches.size(0) ? scorer.score_patches(patches) : torch::empty({0});
    auto pred = models::to_predictions(patch_scores, mine.size(), h, wd, masks.size(1), masks.size(2));
    ClassPredictions all;
    all.class_name = cls;
    all.image_scores = ctx.comm.allgatherv(pred.image_scores);
    all.maps = ctx.comm.allgatherv(pred.maps);  // float32: the metrics' input (scores_file.h)
    if (!w) continue;
    all.labels = torch::empty({n}, torch::kUInt8);
    for (int64_t i = 0; i < n; ++i) all.labels[i] = records[i].is_anomaly ? 1 : 0;
    all.masks = test.read(cls + "/gt_masks");
    all.image_paths = test.read_strings(cls + "/image_paths");
    write_class_predictions(*w, all);
  }
  if (w) w->commit();
  ctx.comm.barrier();
}

bool stop_here(StageContext& ctx, const std::string& stage, const std::string& stop_after) {
  if (stop_after != stage) return false;
  core::log_info("stopping after stage ", stage, " (--stop-after)");
  ctx.summary.stopped_early = true;
  return true;
}

}  // namespace

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = {"features", "tail", "lof", "tail_features", "coreset", "scores"};
  return names;
}

std::vector<ClassPredictions> read_scores(const std::filesystem::path& scores_h5,
                                          const std::vector<std::string>& classes) {
  io::H5Reader r(scores_h5);
  std::vector<ClassPredictions> out;
  for (const auto& c : classes) out.push_back(read_class_predictions(r, c));
  return out;
}

std::vector<ClassPredictions> run_backbone(StageContext& ctx, const std::string& stop_after) {
  FeatureSource source(ctx.cfg, ctx.backbone, ctx.train, ctx.comm);
  const bool tail_branch = wants_tail_branch(ctx.cfg);
  if (!ctx.feature_cache.done("features")) {
    StageTimer t(ctx.summary, "features");
    // Embeddings always: one extraction then serves every model on this data.
    write_features(ctx, source.train_features(ctx.train, /*with_embeddings=*/true, ctx.comm));
    ctx.comm.barrier();
  }
  const TrainFeatures f = load_features(ctx.feature_cache);
  if (stop_here(ctx, "features", stop_after)) return {};

  torch::Tensor tail;
  if (tail_branch) {
    tail = tail_stage(ctx, f);
    const auto counts = data::images_per_class(ctx.train);
    int64_t truth = 0, hits = 0;
    auto acc = tail.accessor<int64_t, 1>();
    std::vector<bool> selected(ctx.train.size(), false);
    for (int64_t i = 0; i < acc.size(0); ++i) selected[acc[i]] = true;
    for (size_t i = 0; i < ctx.train.size(); ++i) {
      const bool is_tail = counts.at(ctx.train[i].class_name) <= kTailClassMaxImages;
      truth += is_tail;
      hits += is_tail && selected[i];
    }
    ctx.summary.tail_selected = tail.size(0);
    ctx.summary.tail_truth = truth;
    ctx.summary.tail_true_positives = hits;
    core::log_info("tail: ", tail.size(0), " images selected; ", hits, " of ", truth,
                   " images of tail classes (<= ", kTailClassMaxImages, " training images)");
    if (stop_here(ctx, "tail", stop_after)) return {};
  }
  LofScores lof;
  if (wants_lof(ctx.cfg)) {
    lof = lof_stage(ctx, f);
    if (stop_here(ctx, "lof", stop_after)) return {};
  }
  if (tail_branch) {
    tail_features_stage(ctx, source, f, tail);
    if (stop_here(ctx, "tail_features", stop_after)) return {};
  }
  coreset_stage(ctx, f, wants_lof(ctx.cfg) ? &lof : nullptr, tail_branch ? &tail : nullptr);
  if (stop_here(ctx, "coreset", stop_after)) return {};
  test_features_stage(ctx, source);
  scores_stage(ctx);
  if (stop_here(ctx, "scores", stop_after)) return {};
  if (ctx.comm.rank() != 0) return {};
  return read_scores(ctx.cache.path("scores"), ctx.catalog.classes());
}

void accumulate_predictions(std::vector<ClassPredictions>& into,
                            const std::vector<ClassPredictions>& add, size_t backbones) {
  // SPEC 5.5: per class, image scores and maps min-max normalised (maps over
  // all pixels of the class), then the mean over backbones. One backbone keeps
  // its raw scores (the normalisation is monotone and changes no metric).
  if (backbones == 1) {
    into = add;
    return;
  }
  if (into.empty()) {
    into = add;
    for (auto& p : into) {
      p.image_scores = torch::zeros_like(p.image_scores);
      p.maps = torch::zeros_like(p.maps);
    }
  }
  TC_ASSERT(into.size() == add.size());
  const float w = 1.0f / static_cast<float>(backbones);
  for (size_t i = 0; i < into.size(); ++i) {
    into[i].image_scores = into[i].image_scores + w * eval::min_max_normalize(add[i].image_scores);
    into[i].maps = into[i].maps + w * eval::min_max_normalize(add[i].maps);
  }
}

}  // namespace tc::pipeline
