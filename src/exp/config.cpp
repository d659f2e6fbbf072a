#include "tailedcore/exp/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/io/files.h"

namespace tc::exp {
namespace {

// One table from key path to a setter: parsing YAML and `--set` share it.
using Setter = std::function<void(Config&, const YAML::Node&, const std::string& where)>;

template <class T>
T as(const YAML::Node& n, const std::string& where, const char* type) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    TC_FAIL(where, ": value '", YAML::Dump(n), "' is not ", type);
  }
}

std::string as_name(const YAML::Node& n, const std::string& where) {
  if (n.IsNull()) return "";
  const auto s = as<std::string>(n, where, "a string");
  return (s == "null" || s == "~" || s == "None") ? "" : s;
}

std::vector<std::string> as_list(const YAML::Node& n, const std::string& where) {
  TC_CHECK(n.IsSequence(), where, ": expected a list like [\"a\", \"b\"]");
  std::vector<std::string> out;
  for (const auto& item : n) out.push_back(as<std::string>(item, where, "a string"));
  return out;
}

void check_choice(const std::string& value, const std::vector<std::string>& known,
                  const std::string& where) {
  if (std::find(known.begin(), known.end(), value) != known.end()) return;
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + (k.empty() ? std::string("null") : k);
  TC_FAIL(where, ": '", value, "' is unknown: expected one of ", list);
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"seed", [](Config& c, const YAML::Node& n, const std::string& w) { c.seed = as<int64_t>(n, w, "an integer"); }},
      {"data.resize", [](Config& c, const YAML::Node& n, const std::string& w) { c.data.resize = as<int64_t>(n, w, "an integer"); }},
      {"data.imagesize", [](Config& c, const YAML::Node& n, const std::string& w) { c.data.imagesize = as<int64_t>(n, w, "an integer"); }},
      {"data.inputsize", [](Config& c, const YAML::Node& n, const std::string& w) { c.data.inputsize = as<int64_t>(n, w, "an integer"); }},
      {"data.batch_size", [](Config& c, const YAML::Node& n, const std::string& w) { c.data.batch_size = as<int64_t>(n, w, "an integer"); }},
      {"data.workers", [](Config& c, const YAML::Node& n, const std::string& w) { c.data.workers = as<int64_t>(n, w, "an integer"); }},
      {"model.backbone_names", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.backbone_names = as_list(n, w); }},
      {"model.layers_to_extract", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.layers_to_extract = as_list(n, w); }},
      {"model.embedding_to_extract_from", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.embedding_to_extract_from = as_name(n, w); }},
      {"model.coreset_model_name", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.coreset_model_name = as_name(n, w); }},
      {"model.tail_th_type", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.tail_th_type = as_name(n, w); }},
      {"model.tail_data_augment_type", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.tail_data_augment_type = as_name(n, w); }},
      {"model.tail_lof", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.tail_lof = as<bool>(n, w, "true or false"); }},
      {"model.greedy_ratio", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.greedy_ratio = as<double>(n, w, "a number"); }},
      {"model.greedy_proj_dim", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.greedy_proj_dim = as<int64_t>(n, w, "an integer"); }},
      {"model.faiss_k_neighbor", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.faiss_k_neighbor = as<int64_t>(n, w, "an integer"); }},
      {"model.backbone_weights", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.backbone_weights = as_name(n, w); }},
      {"model.target_embed_dimension", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.target_embed_dimension = as<int64_t>(n, w, "an integer"); }},
      {"model.lof_k", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.lof_k = as<int64_t>(n, w, "an integer"); }},
      {"model.lof_keep", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.lof_keep = as<double>(n, w, "a number"); }},
      {"model.feature_dtype", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.feature_dtype = as_name(n, w); }},
      {"model.index", [](Config& c, const YAML::Node& n, const std::string& w) { c.model.index = as_name(n, w); }},
      // The reference's optional, unused key (SPEC 7): accepted and ignored.
      {"model.train_mode", [](Config&, const YAML::Node&, const std::string&) {}},
  };
  return table;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_key(const std::string& key) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& [k, _] : setters()) {
    const size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best;
}

void apply(Config& cfg, const std::string& key, const YAML::Node& value, const std::string& source) {
  const auto it = setters().find(key);
  TC_CHECK(it != setters().end(), source, ": unknown key '", key, "' (did you mean '",
           closest_key(key), "'?)");
  it->second(cfg, value, source + ": " + key);
}

void walk(Config& cfg, const YAML::Node& node, const std::string& prefix, const std::string& source) {
  for (const auto& kv : node) {
    const std::string key = prefix + kv.first.as<std::string>();
    // Only `data` and `model` are sections; any other mapping is a value of a key.
    if (kv.second.IsMap() && (key == "data" || key == "model"))
      walk(cfg, kv.second, key + ".", source);
    else
      apply(cfg, key, kv.second, source);
  }
}

void validate(const Config& c, const std::string& source) {
  const auto where = [&](const char* key) { return source + ": " + key; };
  TC_CHECK(c.model.greedy_ratio > 0 && c.model.greedy_ratio <= 1, where("model.greedy_ratio"), " = ",
           c.model.greedy_ratio, ": expected a ratio in (0, 1]");
  TC_CHECK(c.model.greedy_proj_dim >= 0, where("model.greedy_proj_dim"), " = ",
           c.model.greedy_proj_dim, ": expected >= 0 (0 = no projection)");
  TC_CHECK(c.model.faiss_k_neighbor >= 1, where("model.faiss_k_neighbor"), " = ",
           c.model.faiss_k_neighbor, ": expected >= 1");
  TC_CHECK(c.model.target_embed_dimension >= 1, where("model.target_embed_dimension"), " = ",
           c.model.target_embed_dimension, ": expected >= 1");
  TC_CHECK(c.model.lof_k >= 1, where("model.lof_k"), " = ", c.model.lof_k, ": expected >= 1");
  TC_CHECK(c.model.lof_keep > 0 && c.model.lof_keep <= 1, where("model.lof_keep"), " = ",
           c.model.lof_keep, ": expected a quantile in (0, 1]");
  TC_CHECK(c.data.resize > 0 && c.data.imagesize > 0 && c.data.imagesize <= c.data.resize,
           where("data.imagesize"), " = ", c.data.imagesize, ": expected 0 < imagesize <= resize (",
           c.data.resize, ")");
  TC_CHECK(c.data.batch_size >= 1, where("data.batch_size"), " = ", c.data.batch_size, ": expected >= 1");
  TC_CHECK(c.data.workers >= 1, where("data.workers"), " = ", c.data.workers, ": expected >= 1");
  TC_CHECK(!c.model.backbone_names.empty(), where("model.backbone_names"), ": expected at least one backbone");
  TC_CHECK(!c.model.layers_to_extract.empty(), where("model.layers_to_extract"), ": expected at least one layer");
  for (const auto& b : c.model.backbone_names) {
    check_choice(b, features::backbone_names(), where("model.backbone_names"));
    auto taps = features::backbone_taps(b);
    if (taps.empty()) {  // torchscript: its module names the taps; they are checked on the first batch
      TC_CHECK(!c.model.backbone_weights.empty(), where("model.backbone_weights"),
               ": backbone torchscript needs a TorchScript file");
      continue;
    }
    std::vector<std::string> maps(taps.begin(), taps.end() - 1);  // every tap but avgpool
    for (const auto& l : c.model.layers_to_extract) check_choice(l, maps, where("model.layers_to_extract"));
    taps.insert(taps.begin(), "");
    check_choice(c.model.embedding_to_extract_from, taps, where("model.embedding_to_extract_from"));
  }
  check_choice(c.model.coreset_model_name, {"patchcore", "softpatch", "tailedcore"},
               where("model.coreset_model_name"));
  check_choice(c.model.tail_th_type, {"", "ada_trim_min-mode", "symmin", "double_max_step"},
               where("model.tail_th_type"));
  check_choice(c.model.tail_data_augment_type, {"", "rot15flip", "rot30flip", "rot45flip", "rotflip"},
               where("model.tail_data_augment_type"));
  check_choice(c.model.feature_dtype, {"float32", "float16"}, where("model.feature_dtype"));
  check_choice(c.model.index, {"flat", "ivf"}, where("model.index"));
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& [k, _] : setters()) keys.push_back(k);
  return keys;
}

Config parse_config(const std::string& yaml_text, const std::vector<std::string>& overrides,
                    const std::string& source_name, const std::filesystem::path& base_dir) {
  Config cfg;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    TC_FAIL(source_name, ": not valid YAML (line ", e.mark.line + 1, "): ", e.msg);
  }
  if (!root.IsNull()) {
    TC_CHECK(root.IsMap(), source_name, ": expected a mapping of keys at the top level");
    walk(cfg, root, "", source_name);
  }
  // A relative weights path in a file is relative to the file (configs/quickstart.yaml
  // names ../weights/...), so a run finds it from any folder; --set values stay as given.
  const std::filesystem::path weights(cfg.model.backbone_weights);
  if (!base_dir.empty() && !weights.empty() && weights.is_relative())
    cfg.model.backbone_weights = (base_dir / weights).lexically_normal().string();
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    TC_CHECK(eq != std::string::npos && eq > 0, "--set '", o, "': expected key=value");
    YAML::Node value;
    try {
      value = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      TC_FAIL("--set '", o, "': value is not valid YAML: ", e.msg);
    }
    apply(cfg, o.substr(0, eq), value, "--set");
  }
  validate(cfg, source_name);
  return cfg;
}

Config load_config(const std::filesystem::path& yaml, const std::vector<std::string>& overrides) {
  TC_CHECK(std::filesystem::is_regular_file(yaml), yaml.string(), ": config file does not exist");
  Config cfg = parse_config(io::read_text(yaml), overrides, yaml.string(),
                            std::filesystem::absolute(yaml).parent_path());
  cfg.name = yaml.stem().string();
  return cfg;
}

std::string to_yaml(const Config& c) {
  YAML::Emitter out;
  const auto list = [&](const std::vector<std::string>& v) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out << s;
    out << YAML::EndSeq;
  };
  const auto name = [&](const std::string& s) {
    if (s.empty()) out << YAML::Null; else out << s;
  };
  out << YAML::BeginMap;
  out << YAML::Key << "seed" << YAML::Value << c.seed;
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "resize" << YAML::Value << c.data.resize;
  out << YAML::Key << "imagesize" << YAML::Value << c.data.imagesize;
  out << YAML::Key << "inputsize" << YAML::Value << c.data.inputsize;
  out << YAML::Key << "batch_size" << YAML::Value << c.data.batch_size;
  out << YAML::Key << "workers" << YAML::Value << c.data.workers;
  out << YAML::EndMap;
  out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "backbone_names" << YAML::Value; list(c.model.backbone_names);
  out << YAML::Key << "layers_to_extract" << YAML::Value; list(c.model.layers_to_extract);
  out << YAML::Key << "embedding_to_extract_from" << YAML::Value; name(c.model.embedding_to_extract_from);
  out << YAML::Key << "coreset_model_name" << YAML::Value << c.model.coreset_model_name;
  out << YAML::Key << "tail_th_type" << YAML::Value; name(c.model.tail_th_type);
  out << YAML::Key << "tail_data_augment_type" << YAML::Value; name(c.model.tail_data_augment_type);
  out << YAML::Key << "tail_lof" << YAML::Value << c.model.tail_lof;
  out << YAML::Key << "greedy_ratio" << YAML::Value << c.model.greedy_ratio;
  out << YAML::Key << "greedy_proj_dim" << YAML::Value << c.model.greedy_proj_dim;
  out << YAML::Key << "faiss_k_neighbor" << YAML::Value << c.model.faiss_k_neighbor;
  out << YAML::Key << "backbone_weights" << YAML::Value; name(c.model.backbone_weights);
  out << YAML::Key << "target_embed_dimension" << YAML::Value << c.model.target_embed_dimension;
  out << YAML::Key << "lof_k" << YAML::Value << c.model.lof_k;
  out << YAML::Key << "lof_keep" << YAML::Value << c.model.lof_keep;
  out << YAML::Key << "feature_dtype" << YAML::Value << c.model.feature_dtype;
  out << YAML::Key << "index" << YAML::Value << c.model.index;
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tc::exp
