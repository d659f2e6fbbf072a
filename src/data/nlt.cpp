#include "tailedcore/data/nlt.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/io/files.h"

namespace tc::data {
namespace fs = std::filesystem;

namespace {

struct ManifestPath {
  std::string cls, file;  // <cls>/train/good/<file>
};

ManifestPath parse_line(const fs::path& manifest, size_t line_no, const std::string& line) {
  const auto fail = [&](const std::string& why) {
    TC_FAIL(manifest.string(), ":", line_no, ": '", line, "' ", why,
            ": expected <class>/train/good/<file>");
  };
  std::vector<std::string> parts;
  std::stringstream ss(line);
  std::string p;
  while (std::getline(ss, p, '/')) parts.push_back(p);
  if (parts.size() != 4) fail("has " + std::to_string(parts.size()) + " path parts");
  if (parts[1] != "train" || parts[2] != "good") fail("is not a training image");
  if (parts[0].empty() || parts[3].empty() || parts[0] == ".." || parts[3] == "..") fail("is not a file");
  return {parts[0], parts[3]};
}

void place(const fs::path& from, const fs::path& to, bool symlink) {
  fs::create_directories(to.parent_path());
  if (symlink) fs::create_symlink(fs::absolute(from), to);
  else fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

void copy_tree(const fs::path& from, const fs::path& to, bool symlink) {
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    const auto rel = fs::relative(e.path(), from);
    if (e.is_directory()) fs::create_directories(to / rel);
    else if (e.is_regular_file()) place(e.path(), to / rel, symlink);
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;  // no final newline, as the official manifests
}

}  // namespace

std::vector<std::string> read_manifest(const fs::path& path) {
  TC_CHECK(fs::is_regular_file(path), path.string(), ": manifest does not exist");
  std::istringstream in(io::read_text(path));
  std::vector<std::string> lines;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    TC_CHECK(!line.empty(), path.string(), ":", n, ": empty line: expected <class>/train/good/<file>");
    lines.push_back(line);
  }
  return lines;
}

void apply_nlt(const fs::path& source, const fs::path& dest, const fs::path& prune_manifest,
               const fs::path& noisy_manifest, const NltApplyOptions& opts) {
  TC_CHECK(fs::is_directory(source), source.string(), ": source data folder does not exist");
  TC_CHECK(!fs::exists(dest) || opts.force, dest.string(), ": already exists (pass --force to replace it)");
  const auto prune = read_manifest(prune_manifest);
  const auto inject = read_manifest(noisy_manifest);
  // Validate everything before writing anything.
  std::vector<ManifestPath> pruned, injected;
  std::vector<fs::path> inject_from;
  for (size_t i = 0; i < prune.size(); ++i) {
    pruned.push_back(parse_line(prune_manifest, i + 1, prune[i]));
    TC_CHECK(fs::exists(source / prune[i]), prune_manifest.string(), ":", i + 1, ": ",
             (source / prune[i]).string(), " does not exist in the source");
  }
  for (size_t i = 0; i < inject.size(); ++i) {
    const auto mp = parse_line(noisy_manifest, i + 1, inject[i]);
    const fs::path test_dir = source / mp.cls / "test";
    TC_CHECK(fs::is_directory(test_dir), noisy_manifest.string(), ":", i + 1, ": ", test_dir.string(),
             " does not exist in the source");
    std::string defect;
    for (const auto& d : sorted_subdirs(test_dir))
      if (mp.file.rfind(d + "_", 0) == 0 && d.size() > defect.size()) defect = d;
    TC_CHECK(!defect.empty(), noisy_manifest.string(), ":", i + 1, ": no defect folder of ",
             test_dir.string(), " prefixes '", mp.file, "'");
    const fs::path from = test_dir / defect / mp.file.substr(defect.size() + 1);
    TC_CHECK(fs::is_regular_file(from), noisy_manifest.string(), ":", i + 1, ": ", from.string(),
             " does not exist in the source");
    injected.push_back(mp);
    inject_from.push_back(from);
  }
  const fs::path tmp = dest.string() + ".tmp-" + std::to_string(getpid());
  fs::remove_all(tmp);
  io::ensure_writable_dir(tmp);
  for (const auto& cls : sorted_subdirs(source)) {
    if (!fs::is_directory(source / cls / "train")) continue;
    for (const char* part : {"train/good", "test", "ground_truth"})
      if (fs::is_directory(source / cls / part)) copy_tree(source / cls / part, tmp / cls / part, opts.symlink);
  }
  for (const auto& p : pruned) fs::remove(tmp / p.cls / "train" / "good" / p.file);
  for (size_t i = 0; i < injected.size(); ++i)
    place(inject_from[i], tmp / injected[i].cls / "train" / "good" / injected[i].file, opts.symlink);
  if (fs::exists(dest)) fs::remove_all(dest);
  fs::rename(tmp, dest);
  core::log_info("nlt: ", dest.string(), ": ", prune.size(), " training images pruned, ",
                 inject.size(), " defect images injected");
}

std::vector<ClassCounts> make_nlt(const fs::path& source, const fs::path& dest, const NltMakeOptions& opts) {
  TC_CHECK(opts.profile == "pareto" || opts.profile == "step", "--profile '", opts.profile,
           "' is unknown: expected pareto or step");
  TC_CHECK(opts.noise_ratio >= 0 && opts.noise_ratio < 1, "--noise-ratio ", opts.noise_ratio,
           ": expected 0 <= ratio < 1");
  const auto catalog = Catalog::scan(source);
  const auto& classes = catalog.classes();
  const int64_t C = static_cast<int64_t>(classes.size());
  std::mt19937_64 rng(opts.seed);
  std::vector<int64_t> keep(C);
  std::vector<std::vector<std::string>> goods(C);
  for (int64_t c = 0; c < C; ++c)
    for (const auto& r : catalog.train_set(classes[c])) goods[c].push_back(fs::path(r.path).filename().string());

  if (opts.profile == "step") {
    // round(0.6 C) random tail classes keep k images; the others keep all.
    std::vector<int64_t> order(C);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t tails = std::llround(0.6 * C);
    for (int64_t c = 0; c < C; ++c) keep[c] = static_cast<int64_t>(goods[c].size());
    for (int64_t i = 0; i < tails; ++i)
      keep[order[i]] = std::min<int64_t>(opts.tail_classes_keep, goods[order[i]].size());
  } else {
    // A discrete Pareto pmf over the classes (bins x_i = 1 + 0.09 i, fitted to
    // the official MVTec pareto manifests' counts), shuffled over the classes,
    // scaled so the class with the largest pmf keeps all its images; the
    // others keep round(pmf * factor) clipped to [5, N].
    std::vector<double> pmf(C);
    for (int64_t i = 0; i < C; ++i) pmf[i] = std::pow(1.0 + 0.09 * i, -opts.pareto_alpha);
    std::shuffle(pmf.begin(), pmf.end(), rng);
    const int64_t top = std::max_element(pmf.begin(), pmf.end()) - pmf.begin();
    const double factor = static_cast<double>(goods[top].size()) / pmf[top];
    for (int64_t c = 0; c < C; ++c)
      keep[c] = std::clamp<int64_t>(std::llround(pmf[c] * factor), std::min<int64_t>(5, goods[c].size()),
                                    goods[c].size());
  }
  std::vector<std::string> prune, inject;
  std::vector<ClassCounts> counts(C);
  int64_t total = 0;
  for (int64_t c = 0; c < C; ++c) {
    std::vector<std::string> files = goods[c];
    std::shuffle(files.begin(), files.end(), rng);
    std::set<std::string> kept(files.begin(), files.begin() + keep[c]);
    for (const auto& f : goods[c])
      if (!kept.count(f)) prune.push_back(classes[c] + "/train/good/" + f);
    counts[c] = {classes[c], keep[c], 0};
    total += keep[c];
  }
  // Noise: defect test images of classes with >= 20 kept images, image-wise.
  std::vector<std::vector<std::pair<std::string, std::string>>> defects(C);
  for (int64_t c = 0; c < C; ++c)
    for (const auto& r : catalog.test_set(classes[c]))
      if (r.is_anomaly) defects[c].emplace_back(r.category, fs::path(r.path).filename().string());
  for (auto& d : defects) std::shuffle(d.begin(), d.end(), rng);
  int64_t noise = std::llround(opts.noise_ratio * total);
  if (opts.profile == "step") {
    for (int64_t c = 0; c < C; ++c)
      if (keep[c] == static_cast<int64_t>(goods[c].size()))
        counts[c].defects_injected =
            std::min<int64_t>(defects[c].size(), std::llround(opts.noise_ratio * keep[c]));
  } else {
    std::vector<int64_t> eligible;
    for (int64_t c = 0; c < C; ++c)
      if (keep[c] >= 20) eligible.push_back(c);
    while (noise > 0 && !eligible.empty()) {
      int64_t weight = 0;
      for (int64_t c : eligible) weight += keep[c];
      int64_t pick = static_cast<int64_t>(rng() % weight);
      size_t e = 0;
      while (pick >= keep[eligible[e]]) pick -= keep[eligible[e++]];
      const int64_t c = eligible[e];
      ++counts[c].defects_injected;
      --noise;
      if (counts[c].defects_injected == static_cast<int64_t>(defects[c].size())) eligible.erase(eligible.begin() + e);
    }
  }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < counts[c].defects_injected; ++i)
      inject.push_back(classes[c] + "/train/good/" + defects[c][i].first + "_" + defects[c][i].second);
  std::sort(prune.begin(), prune.end());
  std::sort(inject.begin(), inject.end());
  // Manifests beside the data set (outside the class folders).
  const fs::path manifest_dir = dest.string() + ".manifest";
  io::write_text_atomic(manifest_dir / "prune_good.txt", join_lines(prune));
  io::write_text_atomic(manifest_dir / "inject_defects.txt", join_lines(inject));
  std::ostringstream csv;
  csv << "class,good_kept,defects_injected,total\n";
  for (const auto& c : counts)
    csv << c.class_name << "," << c.good_kept << "," << c.defects_injected << ","
        << c.good_kept + c.defects_injected << "\n";
  io::write_text_atomic(manifest_dir / "counts.csv", csv.str());
  apply_nlt(source, dest, manifest_dir / "prune_good.txt", manifest_dir / "inject_defects.txt", opts.apply);
  return counts;
}

}  // namespace tc::data
