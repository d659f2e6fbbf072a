#include "tailedcore/datasets/nlt.h"

#include <algorithm>
#include <sstream>

#include "tailedcore/core/check.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/paths.h"
#include "tailedcore/data/catalog.h"
#include "tailedcore/data/input_check.h"
#include "tailedcore/datasets/nlt_recipe.h"
#include "tailedcore/io/files.h"

namespace tc::datasets {
namespace fs = std::filesystem;

namespace {

struct ManifestPath {
  std::string cls, file;  // <cls>/train/good/<file>
};

// The shared rule for paths read from a file (core::checked_relative_path:
// relative, no "." or ".." part), then the manifest's own shape.
ManifestPath parse_line(const fs::path& manifest, size_t line_no, const std::string& line) {
  const std::string where = manifest.string() + ":" + std::to_string(line_no);
  const auto fail = [&](const std::string& why) {
    TC_FAIL(where, ": '", line, "' ", why, ": expected <class>/train/good/<file>");
  };
  std::vector<std::string> parts;
  for (const auto& p : core::checked_relative_path(line, where)) parts.push_back(p.string());
  if (parts.size() != 4) fail("has " + std::to_string(parts.size()) + " path parts");
  if (parts[1] != "train" || parts[2] != "good") fail("is not a training image");
  return {parts[0], parts[3]};
}

void place(const fs::path& from, const fs::path& to, bool symlink) {
  fs::create_directories(to.parent_path());
  if (symlink)
    fs::create_symlink(fs::absolute(from), to);
  else
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

void copy_tree(const fs::path& from, const fs::path& to, bool symlink) {
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    const auto rel = fs::relative(e.path(), from);
    if (e.is_directory())
      fs::create_directories(to / rel);
    else if (e.is_regular_file())
      place(e.path(), to / rel, symlink);
  }
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
    TC_CHECK(!line.empty(), path.string(), ":", n,
             ": empty line: expected <class>/train/good/<file>");
    lines.push_back(line);
  }
  return lines;
}

void apply_nlt(const fs::path& source, const fs::path& dest, const fs::path& prune_manifest,
               const fs::path& noisy_manifest, const NltApplyOptions& opts) {
  TC_CHECK(fs::is_directory(source), source.string(), ": source data folder does not exist");
  io::check_dest_apart_from_source(source, dest);
  TC_CHECK(!fs::exists(dest) || opts.force, dest.string(),
           ": already exists (pass --force to replace it)");
  NltChanges changes;
  io::build_folder_atomic(dest, [&](const fs::path& tmp) {
    changes = apply_nlt_into(source, tmp, prune_manifest, noisy_manifest, opts.symlink);
  });
  core::log_info("nlt: ", dest.string(), ": ", changes.pruned, " training images pruned, ",
                 changes.injected, " defect images injected");
}

NltChanges apply_nlt_into(const fs::path& source, const fs::path& dir,
                          const fs::path& prune_manifest, const fs::path& noisy_manifest,
                          bool symlink) {
  const auto prune = read_manifest(prune_manifest);
  const auto inject = read_manifest(noisy_manifest);
  // Validate everything before writing anything.
  std::vector<ManifestPath> pruned, injected;
  std::vector<fs::path> inject_from;
  for (size_t i = 0; i < prune.size(); ++i) {
    pruned.push_back(parse_line(prune_manifest, i + 1, prune[i]));
    data::source_file(source, prune[i], prune_manifest.string() + ":" + std::to_string(i + 1),
                      /*image=*/false);
  }
  for (size_t i = 0; i < inject.size(); ++i) {
    const auto mp = parse_line(noisy_manifest, i + 1, inject[i]);
    const fs::path test_dir = source / mp.cls / "test";
    TC_CHECK(fs::is_directory(test_dir), noisy_manifest.string(), ":", i + 1, ": ",
             test_dir.string(), " does not exist in the source");
    std::string defect;
    for (const auto& d : data::sorted_subdirs(test_dir))
      if (mp.file.rfind(d + "_", 0) == 0 && d.size() > defect.size()) defect = d;
    TC_CHECK(!defect.empty(), noisy_manifest.string(), ":", i + 1, ": no defect folder of ",
             test_dir.string(), " prefixes '", mp.file, "'");
    // The image that is copied into the training set: a PNG or JPEG inside the source.
    const fs::path from = data::source_file(
        source, mp.cls + "/test/" + defect + "/" + mp.file.substr(defect.size() + 1),
        noisy_manifest.string() + ":" + std::to_string(i + 1), /*image=*/true);
    injected.push_back(mp);
    inject_from.push_back(from);
  }
  for (const auto& cls : data::sorted_subdirs(source)) {
    if (!fs::is_directory(source / cls / "train")) continue;
    for (const char* part : {"train/good", "test", "ground_truth"})
      if (fs::is_directory(source / cls / part))
        copy_tree(source / cls / part, dir / cls / part, symlink);
  }
  for (const auto& p : pruned) fs::remove(dir / p.cls / "train" / "good" / p.file);
  for (size_t i = 0; i < injected.size(); ++i)
    place(inject_from[i], dir / injected[i].cls / "train" / "good" / injected[i].file, symlink);
  return {static_cast<int64_t>(pruned.size()), static_cast<int64_t>(injected.size())};
}

std::vector<ClassCounts> make_nlt(const fs::path& source, const fs::path& dest,
                                  const NltMakeOptions& opts) {
  NltRecipe recipe;
  recipe.profile = opts.profile;
  recipe.tail_images = opts.tail_classes_keep;
  recipe.noise_ratio = opts.noise_ratio;
  recipe.seed = opts.seed;
  recipe.pareto_alpha = opts.pareto_alpha;
  return build_nlt_variant(source, dest, recipe, opts.apply).counts;
}

}  // namespace tc::datasets
