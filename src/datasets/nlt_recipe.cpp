#include "tailedcore/datasets/nlt_recipe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/csv.h"
#include "tailedcore/core/log.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/io/files.h"

namespace tc::datasets {
namespace fs = std::filesystem;

namespace {

// mt19937_64's output sequence is fixed by the standard; the mapping to a range
// and the shuffle are ours, so results do not depend on the standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, n), n >= 1, by rejection (no modulo bias).
  uint64_t below(uint64_t n) {
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    const uint64_t limit = max - max % n;  // a multiple of n
    uint64_t x;
    do x = engine_();
    while (x >= limit);
    return x % n;
  }
  template <class T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

// Python's round(): half to even.
int64_t round_half_even(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;  // no final newline, as the official manifests
}

void validate(const NltRecipe& r) {
  TC_CHECK(r.profile == "pareto" || r.profile == "step", "--profile '", r.profile,
           "' is unknown: expected pareto or step");
  TC_CHECK(r.noise_ratio >= 0 && r.noise_ratio <= 1, "--noise-ratio ", r.noise_ratio,
           ": expected 0 <= ratio <= 1");
  TC_CHECK(r.tail_images >= 1, "--tail-classes ", r.tail_images,
           ": expected >= 1 image per tail class");
  TC_CHECK(r.tail_class_ratio >= 0 && r.tail_class_ratio <= 1, "tail class ratio ",
           r.tail_class_ratio, ": expected 0 <= ratio <= 1");
  TC_CHECK(r.pareto_alpha > 0, "pareto alpha ", r.pareto_alpha, ": expected > 0");
  TC_CHECK(r.pareto_epsilon > 0 && r.pareto_epsilon < 0.5, "pareto epsilon ", r.pareto_epsilon,
           ": expected 0 < epsilon < 0.5");
}

}  // namespace

std::vector<double> discrete_pareto_pmf(double alpha, int64_t bins, double epsilon) {
  TC_CHECK(bins >= 1, "pareto pmf: ", bins, " bins: expected >= 1");
  const auto ppf = [&](double q) { return std::pow(1.0 - q, -1.0 / alpha); };
  const auto cdf = [&](double x) { return 1.0 - std::pow(x, -alpha); };
  const double lo = ppf(epsilon), hi = ppf(1.0 - epsilon);
  std::vector<double> pmf(bins);
  // numpy.linspace: lo + i * step, the last point exactly hi.
  const double step = (hi - lo) / static_cast<double>(bins);
  const auto x = [&](int64_t i) { return i == bins ? hi : lo + static_cast<double>(i) * step; };
  for (int64_t i = 0; i < bins; ++i) pmf[i] = cdf(x(i + 1)) - cdf(x(i));
  return pmf;
}

NltManifests draw_nlt_manifests(const fs::path& source, const NltRecipe& recipe) {
  validate(recipe);
  const auto catalog = data::Catalog::scan(source);
  const auto& classes = catalog.classes();
  const size_t C = classes.size();
  TC_CHECK(C >= 1, source.string(), ": no class folders: expected <class>/train/good/...");
  std::vector<std::vector<std::string>> goods(C);
  std::vector<std::vector<std::string>> defects(C);  // "<defect>_<file>"
  for (size_t c = 0; c < C; ++c) {
    for (const auto& r : catalog.train_set(classes[c]))
      goods[c].push_back(fs::path(r.path).filename().string());
    for (const auto& r : catalog.test_set(classes[c]))
      if (r.is_anomaly)
        defects[c].push_back(r.category + "_" + fs::path(r.path).filename().string());
  }
  Rng rng(recipe.seed);
  std::vector<int64_t> keep(C), noise(C, 0);
  const auto n_good = [&](size_t c) { return static_cast<int64_t>(goods[c].size()); };
  const auto n_defects = [&](size_t c) { return static_cast<int64_t>(defects[c].size()); };

  if (recipe.profile == "step") {
    std::vector<size_t> order(C);
    std::iota(order.begin(), order.end(), size_t{0});
    rng.shuffle(order);
    const auto tails =
        static_cast<size_t>(round_half_even(recipe.tail_class_ratio * static_cast<double>(C)));
    std::vector<bool> is_tail(C, false);
    for (size_t i = 0; i < tails; ++i) is_tail[order[i]] = true;
    for (size_t c = 0; c < C; ++c) {
      keep[c] = is_tail[c] ? std::min(recipe.tail_images, n_good(c)) : n_good(c);
      if (!is_tail[c])
        noise[c] = std::min(n_defects(c),
                            round_half_even(recipe.noise_ratio * static_cast<double>(n_good(c))));
    }
  } else {
    for (size_t c = 0; c < C; ++c)
      TC_CHECK(n_good(c) >= recipe.pareto_min_images,
               (source / classes[c] / "train" / "good").string(), " has ", n_good(c),
               " images: expected at least ", recipe.pareto_min_images, " for --profile pareto");
    std::vector<double> pmf =
        discrete_pareto_pmf(recipe.pareto_alpha, static_cast<int64_t>(C), recipe.pareto_epsilon);
    rng.shuffle(pmf);
    const size_t top = std::max_element(pmf.begin(), pmf.end()) - pmf.begin();  // first maximum
    const double factor = static_cast<double>(n_good(top)) / pmf[top];
    for (size_t c = 0; c < C; ++c)
      keep[c] =
          std::max(std::min(n_good(c), round_half_even(pmf[c] * factor)), recipe.pareto_min_images);
  }

  NltManifests out;
  for (size_t c = 0; c < C; ++c) {
    std::vector<std::string> files = goods[c];
    rng.shuffle(files);
    for (size_t i = static_cast<size_t>(keep[c]); i < files.size(); ++i)
      out.prune_good.push_back(classes[c] + "/train/good/" + files[i]);
  }
  if (recipe.profile == "pareto") {
    int64_t total = 0;
    for (size_t c = 0; c < C; ++c) total += keep[c];
    const int64_t draws = round_half_even(recipe.noise_ratio * static_cast<double>(total));
    // One entry per kept image of an eligible class: drawing entries without
    // replacement is the reference's image-wise draw.
    std::vector<uint32_t> images;
    for (size_t c = 0; c < C; ++c)
      if (keep[c] >= recipe.noise_min_class_size)
        images.insert(images.end(), keep[c], static_cast<uint32_t>(c));
    rng.shuffle(images);
    for (size_t i = 0; i < images.size() && static_cast<int64_t>(i) < draws; ++i)
      ++noise[images[i]];
    for (size_t c = 0; c < C; ++c) noise[c] = std::min(noise[c], n_defects(c));
  }
  for (size_t c = 0; c < C; ++c) {
    std::vector<std::string> picks = defects[c];
    rng.shuffle(picks);
    for (int64_t i = 0; i < noise[c]; ++i)
      out.inject_defects.push_back(classes[c] + "/train/good/" + picks[i]);
    out.counts.push_back({classes[c], keep[c], noise[c]});
  }
  std::sort(out.prune_good.begin(), out.prune_good.end());
  std::sort(out.inject_defects.begin(), out.inject_defects.end());
  return out;
}

std::string nlt_counts_csv(const std::vector<ClassCounts>& counts) {
  std::ostringstream csv;
  csv << "class,good_kept,defects_injected,total\n";
  for (const auto& c : counts)
    csv << core::csv_field(c.class_name) << "," << c.good_kept << "," << c.defects_injected << ","
        << c.good_kept + c.defects_injected << "\n";
  return csv.str();
}

NltManifests build_nlt_variant(const fs::path& source, const fs::path& dest,
                               const NltRecipe& recipe, const NltApplyOptions& apply) {
  io::check_dest_apart_from_source(source, dest);
  TC_CHECK(!fs::exists(dest) || apply.force, dest.string(),
           ": already exists (pass --force to replace it)");
  const NltManifests m = draw_nlt_manifests(source, recipe);
  io::build_folder_atomic(dest, [&](const fs::path& staging) {
    // The variant's tree and its manifest/ (which Catalog::scan skips: no train/).
    const fs::path manifests = staging / "manifest";
    io::write_text_atomic(manifests / "prune_good.txt", join_lines(m.prune_good));
    io::write_text_atomic(manifests / "inject_defects.txt", join_lines(m.inject_defects));
    io::write_text_atomic(manifests / "counts.csv", nlt_counts_csv(m.counts));
    apply_nlt_into(source, staging, manifests / "prune_good.txt", manifests / "inject_defects.txt",
                   apply.symlink);
  });
  core::log_info("nlt make: ", dest.string(), ": profile ", recipe.profile, ", seed ", recipe.seed,
                 ", ", m.prune_good.size(), " pruned, ", m.inject_defects.size(),
                 " injected; manifests in ", (dest / "manifest").string());
  return m;
}

}  // namespace tc::datasets
