// Experiment configs: YAML files with the reference keys (configs/*.yaml),
// plus `--set a.b=value` overrides. Unknown keys are errors that name the
// closest valid key; values are type- and range-checked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tailedcore/features/embedder_options.h"
#include "tailedcore/index/options.h"
#include "tailedcore/sampling/greedy_checkpoint.h"
#include "tailedcore/sampling/options.h"

namespace tc::exp {

// A key that sets a component's option takes its default from that option's
// struct: the struct's in-class default is the only one.

// Sizes: a number of pixels, or `full` (0, data::kFullSize): the image's own
// size, so resize: full and imagesize: full keep native, possibly non-square, images.
struct DataConfig {
  int64_t resize = 256;     // shorter side after resizing; full = no resize
  int64_t imagesize = 224;  // square centre crop; full = no crop
  int64_t inputsize = 224;  // reference key; equals imagesize in every reference config
  int64_t batch_size = 32;  // images per forward pass (ours; not in any cache key)
  int64_t workers = 2;      // decode threads (ours; not in any cache key)
};

struct ModelConfig {
  std::vector<std::string> backbone_names{"wideresnet50"};
  std::vector<std::string> layers_to_extract = features::EmbedderOptions{}.layers;
  // "" (the embedder's default, avgpool) or a tap of the backbone: avgpool (reference), or a
  // map tap (e.g. layer2, stage5): its spatial mean (ours)
  std::string embedding_to_extract_from;
  std::string coreset_model_name = "patchcore";  // patchcore | softpatch | tailedcore
  std::string tail_th_type;            // "" | ada_trim_min-mode | symmin | double_max_step
  std::string tail_data_augment_type;  // "" | rot15flip | rot30flip | rot45flip | rotflip
  bool tail_lof = false;
  double greedy_ratio = sampling::CoresetOptions{}.ratio;
  // honoured (the reference ignores it and uses 128)
  int64_t greedy_proj_dim = sampling::CoresetOptions{}.proj_dim;
  int64_t faiss_k_neighbor = index::IndexOptions{}.k;  // honoured (the reference uses 1)
  // Ours:
  std::string backbone_weights;  // TorchScript file; "" = seeded random init
  // patch feature width (PatchCore's pretrain_ and target_embed_dimension)
  int64_t target_embed_dimension = features::EmbedderOptions{}.target_dim;
  int64_t lof_k = sampling::LofOptions{}.k;
  double lof_keep = sampling::LofOptions{}.keep_quantile;
  std::string feature_dtype = "float32";  // float32 | float16 (stored features)
  std::string index = "flat";             // flat | ivf
  // Scoring: the bank is replicated on every rank when its float32 bytes fit
  // this budget, else sharded over the ranks (<= 0: always replicated). Results
  // do not depend on it: not in any cache key.
  double bank_memory_gb = 16.0;
  // Seconds of greedy work between two checkpoints of its state (a rerun
  // resumes there); <= 0: none. Not in any cache key either.
  double greedy_checkpoint_s = sampling::GreedyCheckpoint{}.interval_seconds;
  std::string device = "auto";  // auto | cpu | cuda (dist/device_startup.h: resolved per rank)
};

struct Config {
  int64_t seed = 0;
  DataConfig data;
  ModelConfig model;
  std::string name;    // the config file's stem: names the results folder
  std::string source;  // what errors name it by (parse_config's source_name); not a key
};

Config load_config(const std::filesystem::path& yaml, const std::vector<std::string>& overrides);
/// The folder name a config file gives its runs (<out>/<data>/<name>/): the
/// file's stem, which must be a folder name (core::check_folder_name), so
/// "...yaml" (stem "..") cannot place results outside --out.
std::string config_name(const std::filesystem::path& yaml);
/// `source_name` names the text in errors (a file path); a relative
/// model.backbone_weights in the text is taken relative to `base_dir` when given
/// (load_config: the file's folder), never one given as an override.
Config parse_config(const std::string& yaml_text, const std::vector<std::string>& overrides,
                    const std::string& source_name, const std::filesystem::path& base_dir = {});

/// What a key changes, which decides the cache keys that cover it
/// (pipeline/cache_keys.h): the extracted features (and so all that follows),
/// the results only, or nothing a run computes (placement, scheduling).
/// Ordered: a scope of kResults covers kFeatures too.
enum class Affects { kFeatures, kResults, kNothing };
struct KeyInfo {
  std::string key;
  Affects affects;
};
/// Every key of the table, in its order.
std::vector<KeyInfo> config_keys();

/// The keys that change features or results, in a stable order (the run's
/// config.yaml).
std::string to_yaml(const Config& cfg);
/// One "model.greedy_ratio: 0.1" line per key whose effect is within `scope`:
/// kFeatures and kResults are what the cache keys hash; kNothing, every key,
/// is what ranks compare before they start (dist::check_same_plan).
std::string to_key_lines(const Config& cfg, Affects scope = Affects::kNothing);
/// `key` set to another value of its type (not range-checked): how a test
/// shows that every key moves the cache keys its Affects says, with no list.
/// False for a key that is accepted and ignored (it holds no value).
bool change_value(Config& cfg, const std::string& key);

}  // namespace tc::exp
