#include "tailedcore/exp/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/names.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/data/augment.h"
#include "tailedcore/data/transforms.h"
#include "tailedcore/dist/device_startup.h"
#include "tailedcore/features/backbone.h"
#include "tailedcore/index/nearest.h"
#include "tailedcore/io/files.h"
#include "tailedcore/io/hdf5.h"
#include "tailedcore/sampling/class_size.h"

namespace tc::exp {
namespace {

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
  TC_FAIL(where, ": '", value, "' is unknown: expected one of ", core::join_names(known));
}

// One table, one line per key: how it is read (YAML and `--set` alike) and
// written back (to_yaml, in this order: the order is part of the run hash).
struct Field {
  std::string key;
  std::function<void(Config&, const YAML::Node&, const std::string& where)> read;
  std::function<void(const Config&, YAML::Emitter&)> write;  // empty: accepted, never written
  std::function<void(Config&)> change;                       // change_value
  Affects affects = Affects::kResults;
};

template <class T>
struct Codec;
template <>
struct Codec<int64_t> {
  static int64_t read(const YAML::Node& n, const std::string& w) {
    return as<int64_t>(n, w, "an integer");
  }
  static void write(YAML::Emitter& e, int64_t v) { e << v; }
  static int64_t other(int64_t v) { return v + 1; }
};
template <>
struct Codec<double> {
  static double read(const YAML::Node& n, const std::string& w) {
    return as<double>(n, w, "a number");
  }
  static void write(YAML::Emitter& e, double v) { e << v; }
  static double other(double v) { return v / 2; }
};
template <>
struct Codec<bool> {
  static bool read(const YAML::Node& n, const std::string& w) {
    return as<bool>(n, w, "true or false");
  }
  static void write(YAML::Emitter& e, bool v) { e << v; }
  static bool other(bool v) { return !v; }
};
template <>
struct Codec<std::string> {  // names: null, ~ and None mean "" (the reference's None)
  static std::string read(const YAML::Node& n, const std::string& w) { return as_name(n, w); }
  static void write(YAML::Emitter& e, const std::string& v) {
    if (v.empty())
      e << YAML::Null;
    else
      e << v;
  }
  static std::string other(const std::string& v) { return v + "x"; }
};
template <>
struct Codec<std::vector<std::string>> {
  static std::vector<std::string> read(const YAML::Node& n, const std::string& w) {
    return as_list(n, w);
  }
  static void write(YAML::Emitter& e, const std::vector<std::string>& v) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) e << s;
    e << YAML::EndSeq;
  }
  static std::vector<std::string> other(std::vector<std::string> v) {
    v.push_back("x");
    return v;
  }
};

// An image size: pixels, or `full` (data::kFullSize: the image's own size).
struct SizeCodec {
  static int64_t read(const YAML::Node& n, const std::string& w) {
    if (n.IsScalar() && n.Scalar() == "full") return data::kFullSize;
    const int64_t v = as<int64_t>(n, w, "a size in pixels or full");
    TC_CHECK(v > 0, w, " = ", v, ": expected a size in pixels (> 0) or full");
    return v;
  }
  static void write(YAML::Emitter& e, int64_t v) {
    if (v == data::kFullSize)
      e << "full";
    else
      e << v;
  }
  static int64_t other(int64_t v) { return v + 1; }
};

constexpr Affects kFeatures = Affects::kFeatures, kResults = Affects::kResults,
                  kNothing = Affects::kNothing;

// A key read and written by codec C at the member `get` returns (a generic
// lambda: the same code for a const and a mutable Config).
template <class C, class Get>
Field make_field(std::string key, Affects affects, Get get) {
  Field f;
  f.key = std::move(key);
  f.affects = affects;
  f.read = [get](Config& c, const YAML::Node& n, const std::string& w) { get(c) = C::read(n, w); };
  f.write = [get](const Config& c, YAML::Emitter& e) { C::write(e, get(c)); };
  f.change = [get](Config& c) { get(c) = C::other(get(c)); };
  return f;
}
template <class T>
Field field(std::string key, Affects affects, T Config::*member) {
  return make_field<Codec<T>>(
      std::move(key), affects, [member](auto& c) -> auto& { return c.*member; });
}
template <class Section, class T>
Field field(std::string key, Affects affects, Section Config::*section, T Section::*member) {
  return make_field<Codec<T>>(
      std::move(key), affects,
      [ section, member ](auto& c) -> auto& { return c.*section.*member; });
}
Field size_field(std::string key, Affects affects, int64_t DataConfig::*member) {
  return make_field<SizeCodec>(
      std::move(key), affects, [member](auto& c) -> auto& { return c.data.*member; });
}

const std::vector<Field>& fields() {
  using D = DataConfig;
  using M = ModelConfig;
  constexpr auto data = &Config::data;
  constexpr auto model = &Config::model;
  static const std::vector<Field> table = {
      // The seed draws random weights: cache_keys adds it to the feature key when
      // there are no weights to load.
      field("seed", kResults, &Config::seed),
      size_field("data.resize", kFeatures, &D::resize),
      size_field("data.imagesize", kFeatures, &D::imagesize),
      size_field("data.inputsize", kResults, &D::inputsize),
      field("data.batch_size", kNothing, data, &D::batch_size),
      field("data.workers", kNothing, data, &D::workers),
      // The feature key names the one backbone its features are of.
      field("model.backbone_names", kResults, model, &M::backbone_names),
      field("model.layers_to_extract", kFeatures, model, &M::layers_to_extract),
      field("model.embedding_to_extract_from", kFeatures, model, &M::embedding_to_extract_from),
      field("model.coreset_model_name", kResults, model, &M::coreset_model_name),
      field("model.tail_th_type", kResults, model, &M::tail_th_type),
      field("model.tail_data_augment_type", kResults, model, &M::tail_data_augment_type),
      field("model.tail_lof", kResults, model, &M::tail_lof),
      field("model.greedy_ratio", kResults, model, &M::greedy_ratio),
      field("model.greedy_proj_dim", kResults, model, &M::greedy_proj_dim),
      field("model.faiss_k_neighbor", kResults, model, &M::faiss_k_neighbor),
      field("model.backbone_weights", kFeatures, model, &M::backbone_weights),
      field("model.target_embed_dimension", kFeatures, model, &M::target_embed_dimension),
      field("model.lof_k", kResults, model, &M::lof_k),
      field("model.lof_keep", kResults, model, &M::lof_keep),
      field("model.feature_dtype", kFeatures, model, &M::feature_dtype),
      field("model.index", kResults, model, &M::index),
      field("model.bank_memory_gb", kNothing, model, &M::bank_memory_gb),
      field("model.greedy_checkpoint_s", kNothing, model, &M::greedy_checkpoint_s),
      // GPU features equal the CPU's to float rounding only; cache_keys hashes the
      // resolved device, never `auto`.
      field("model.device", kFeatures, model, &M::device),
      // The reference's optional, unused key (SPEC 7): accepted and ignored.
      [] {
        Field f;
        f.key = "model.train_mode";
        f.read = [](Config&, const YAML::Node&, const std::string&) {};
        f.affects = kNothing;
        return f;
      }(),
  };
  return table;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields())
    if (f.key == key) return &f;
  return nullptr;
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
  for (const auto& f : fields()) {
    const size_t d = edit_distance(key, f.key);
    if (d < best_d) best_d = d, best = f.key;
  }
  return best;
}

void apply(Config& cfg, const std::string& key, const YAML::Node& value,
           const std::string& source) {
  const Field* f = find_field(key);
  TC_CHECK(f != nullptr, source, ": unknown key '", key, "' (did you mean '", closest_key(key),
           "'?)");
  f->read(cfg, value, source + ": " + key);
}

void walk(Config& cfg, const YAML::Node& node, const std::string& prefix,
          const std::string& source) {
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
  // The ranges of keys that set a component's options are checked by those
  // options (validate), once, in make_plan.
  const bool sized = c.data.resize != data::kFullSize && c.data.imagesize != data::kFullSize;
  TC_CHECK(!sized || c.data.imagesize <= c.data.resize, where("data.imagesize"), " = ",
           c.data.imagesize, ": expected imagesize <= resize (", c.data.resize, ") or full");
  TC_CHECK(c.data.batch_size >= 1, where("data.batch_size"), " = ", c.data.batch_size,
           ": expected >= 1");
  TC_CHECK(c.data.workers >= 1, where("data.workers"), " = ", c.data.workers, ": expected >= 1");
  TC_CHECK(!c.model.backbone_names.empty(), where("model.backbone_names"),
           ": expected at least one backbone");
  for (const auto& b : c.model.backbone_names) {
    check_choice(b, features::backbone_names(), where("model.backbone_names"));
    const auto& kind = features::backbone_kind(b);
    if (kind.taps.empty()) {  // torchscript: its module names the taps; they are checked on the
                              // first batch
      TC_CHECK(!c.model.backbone_weights.empty(), where("model.backbone_weights"),
               ": backbone torchscript needs a TorchScript file");
      continue;
    }
    for (const auto& l : c.model.layers_to_extract)
      check_choice(l, kind.maps(), where("model.layers_to_extract"));
    auto taps = kind.taps;
    taps.insert(taps.begin(), "");
    check_choice(c.model.embedding_to_extract_from, taps, where("model.embedding_to_extract_from"));
  }
  // model.coreset_model_name: models::make_method, the one place methods are named.
  sampling::tail_rules().parse(c.model.tail_th_type, where("model.tail_th_type"));
  data::augment_types().parse(c.model.tail_data_augment_type,
                              where("model.tail_data_augment_type"));
  io::feature_dtypes().parse(c.model.feature_dtype, where("model.feature_dtype"));
  index::index_types().parse(c.model.index, where("model.index"));
  TC_CHECK(std::isfinite(c.model.bank_memory_gb), where("model.bank_memory_gb"), " = ",
           c.model.bank_memory_gb,
           ": expected a finite number of GiB (<= 0: always replicate the bank)");
  TC_CHECK(std::isfinite(c.model.greedy_checkpoint_s), where("model.greedy_checkpoint_s"), " = ",
           c.model.greedy_checkpoint_s,
           ": expected a finite number of seconds (<= 0: no checkpoints)");
  check_choice(c.model.device, dist::device_names(), where("model.device"));
}

}  // namespace

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
  cfg.source = source_name;
  return cfg;
}

std::string config_name(const std::filesystem::path& yaml) {
  const std::string name = yaml.stem().string();
  core::check_folder_name(name, yaml.string() + ": the config's name");
  return name;
}

Config load_config(const std::filesystem::path& yaml, const std::vector<std::string>& overrides) {
  const std::string name = config_name(yaml);
  TC_CHECK(std::filesystem::is_regular_file(yaml), yaml.string(), ": config file does not exist");
  Config cfg = parse_config(io::read_text(yaml), overrides, yaml.string(),
                            std::filesystem::absolute(yaml).parent_path());
  cfg.name = name;
  return cfg;
}

std::vector<KeyInfo> config_keys() {
  std::vector<KeyInfo> keys;
  for (const auto& f : fields()) keys.push_back({f.key, f.affects});
  return keys;
}

bool change_value(Config& cfg, const std::string& key) {
  const Field* f = find_field(key);
  TC_CHECK(f != nullptr, "change_value: '", key, "' is not a key");
  if (!f->change) return false;
  f->change(cfg);
  return true;
}

std::string to_yaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string section;  // the open section ("data", "model") or ""
  for (const auto& f : fields()) {
    if (!f.write || f.affects == Affects::kNothing) continue;
    const auto dot = f.key.find('.');
    const std::string sec = dot == std::string::npos ? "" : f.key.substr(0, dot);
    if (sec != section) {
      if (!section.empty()) out << YAML::EndMap;
      if (!sec.empty()) out << YAML::Key << sec << YAML::Value << YAML::BeginMap;
      section = sec;
    }
    out << YAML::Key << f.key.substr(dot == std::string::npos ? 0 : dot + 1) << YAML::Value;
    f.write(c, out);
  }
  if (!section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string to_key_lines(const Config& c, Affects scope) {
  std::string text;
  for (const auto& f : fields()) {
    if (!f.write || f.affects > scope) continue;
    YAML::Emitter e;
    e << YAML::Flow;  // a list on its key's line
    f.write(c, e);
    text += f.key + ": " + e.c_str() + "\n";
  }
  return text;
}

}  // namespace tc::exp
