#include "tailedcore/sampling/greedy_checkpoint.h"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>

#include "tailedcore/core/check.h"
#include "tailedcore/core/hash.h"
#include "tailedcore/core/log.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/comm.h"

namespace tc::sampling {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'T', 'C', 'G', 'R', 'D', 'Y', '0', '1'};

struct Header {
  char magic[8];
  uint64_t key_hash;
  int64_t n, d, m, ranks, rank, begin, rows, picks;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double max_over_ranks(double v, dist::Comm& comm) {
  return comm.allreduce(torch::tensor({v}, torch::kFloat64), dist::ReduceOp::kMax).item<double>();
}

int64_t reduce(int64_t v, dist::ReduceOp op, dist::Comm& comm) {
  return comm.allreduce(torch::tensor({v}, torch::kInt64), op).item<int64_t>();
}

// A file's header; false when it is not one of ours.
bool read_header(const fs::path& p, Header& h) {
  std::ifstream in(p, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(&h), sizeof h)) return false;
  return std::memcmp(h.magic, kMagic, sizeof kMagic) == 0;
}

// The whole file with its checksum verified; false when damaged.
bool read_payload(const fs::path& p, Header& h, std::vector<int64_t>& picks,
                  std::vector<float>& min_dist, std::vector<int32_t>& nearest) {
  std::ifstream in(p, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(&h), sizeof h)) return false;
  if (h.picks < 0 || h.rows < 0) return false;
  picks.resize(static_cast<size_t>(h.picks));
  min_dist.resize(static_cast<size_t>(h.rows));
  nearest.resize(static_cast<size_t>(h.rows));
  uint64_t sum = 0;
  if (!in.read(reinterpret_cast<char*>(picks.data()),
               static_cast<std::streamsize>(picks.size() * 8)) ||
      !in.read(reinterpret_cast<char*>(min_dist.data()),
               static_cast<std::streamsize>(min_dist.size() * 4)) ||
      !in.read(reinterpret_cast<char*>(nearest.data()),
               static_cast<std::streamsize>(nearest.size() * 4)) ||
      !in.read(reinterpret_cast<char*>(&sum), sizeof sum))
    return false;
  uint64_t h64 = core::fnv1a({reinterpret_cast<const char*>(&h), sizeof h});
  h64 = core::fnv1a({reinterpret_cast<const char*>(picks.data()), picks.size() * 8}, h64);
  h64 = core::fnv1a({reinterpret_cast<const char*>(min_dist.data()), min_dist.size() * 4}, h64);
  h64 = core::fnv1a({reinterpret_cast<const char*>(nearest.data()), nearest.size() * 4}, h64);
  return h64 == sum;
}

// <stem>.rank-<r>-of-<R>.ckpt files beside the prefix: R -> ranks found.
std::map<int64_t, std::vector<int64_t>> checkpoint_files(const fs::path& prefix) {
  std::map<int64_t, std::vector<int64_t>> out;
  const fs::path dir = prefix.parent_path().empty() ? fs::path(".") : prefix.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  const std::string stem = prefix.filename().string();
  const std::regex name(R"(\.rank-([0-9]+)-of-([0-9]+)\.ckpt)");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() <= stem.size() || f.compare(0, stem.size(), stem) != 0) continue;
    std::smatch m;
    const std::string rest = f.substr(stem.size());
    if (std::regex_match(rest, m, name)) out[std::stoll(m[2])].push_back(std::stoll(m[1]));
  }
  return out;
}

}  // namespace

GreedyCheckpoint GreedyCheckpoint::branch(const std::string& name) const {
  GreedyCheckpoint c = *this;
  if (!prefix.empty()) c.prefix = prefix.string() + "-" + name;
  c.key = key + "/" + name;
  return c;
}

void GreedyCheckpoint::remove_files() const {
  if (prefix.empty()) return;
  const fs::path dir = prefix.parent_path().empty() ? fs::path(".") : prefix.parent_path();
  const std::string stem = prefix.filename().string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.compare(0, stem.size(), stem) == 0 && f.find(".ckpt") != std::string::npos)
      fs::remove(e.path(), ec);
  }
}

GreedyCheckpointer::GreedyCheckpointer(GreedyCheckpoint where, int64_t n, int64_t d, int64_t m,
                                       int64_t begin, int64_t rows, dist::Comm& comm)
    : where_(std::move(where)),
      n_(n),
      d_(d),
      m_(m),
      begin_(begin),
      rows_(rows),
      comm_(comm),
      key_hash_(core::fnv1a(where_.key)),
      last_time_(now_seconds()) {}

fs::path GreedyCheckpointer::file(int rank, int ranks) const {
  return where_.prefix.string() + ".rank-" + std::to_string(rank) + "-of-" + std::to_string(ranks) +
         ".ckpt";
}

int64_t GreedyCheckpointer::file_bytes() const {
  return static_cast<int64_t>(sizeof(Header)) + 8 * (m_) + 8 * rows_ + 8;  // picks bounded by m
}

GreedyState GreedyCheckpointer::load() {
  GreedyState state;
  if (!enabled()) return state;
  // The newest complete set of files of this greedy, by this rank's reading.
  int64_t best_picks = 0, best_ranks = 0;
  for (const auto& [ranks, found] : checkpoint_files(where_.prefix)) {
    if (static_cast<int64_t>(found.size()) < ranks) continue;
    int64_t picks = -1, next_begin = 0;
    bool ok = true;
    for (int64_t r = 0; r < ranks && ok; ++r) {
      Header h;
      ok = read_header(file(static_cast<int>(r), static_cast<int>(ranks)), h) &&
           h.key_hash == key_hash_ && h.n == n_ && h.d == d_ && h.m == m_ && h.ranks == ranks &&
           h.rank == r && h.begin == next_begin && (picks < 0 || h.picks == picks) &&
           h.picks >= 1 && h.picks <= m_;
      picks = h.picks;
      next_begin = h.begin + h.rows;
    }
    ok = ok && next_begin == n_;
    if (ok && picks > best_picks) best_picks = picks, best_ranks = ranks;
  }
  // Every rank must resume from the same set, or none does.
  // (Four all-reduces on every rank: no short-circuit may skip a collective.)
  const int64_t picks_lo = reduce(best_picks, dist::ReduceOp::kMin, comm_);
  const int64_t picks_hi = reduce(best_picks, dist::ReduceOp::kMax, comm_);
  const int64_t ranks_lo = reduce(best_ranks, dist::ReduceOp::kMin, comm_);
  const int64_t ranks_hi = reduce(best_ranks, dist::ReduceOp::kMax, comm_);
  const bool agree = picks_lo == picks_hi && ranks_lo == ranks_hi;
  if (!agree) {
    core::log_warn(where_.prefix.string(),
                   ": the ranks see different greedy checkpoints: starting afresh");
    return state;
  }
  if (best_picks == 0) return state;
  // This rank's rows from every file that holds some of them (all ranks: the picks from file 0).
  state.min_dist.assign(static_cast<size_t>(rows_), 0.f);
  state.nearest.assign(static_cast<size_t>(rows_), -1);
  bool ok = true;
  for (int64_t r = 0; r < best_ranks && ok; ++r) {
    const auto p = file(static_cast<int>(r), static_cast<int>(best_ranks));
    Header h;
    if (!read_header(p, h)) {
      ok = false;
      break;
    }
    const int64_t lo = std::max(h.begin, begin_), hi = std::min(h.begin + h.rows, begin_ + rows_);
    if (lo >= hi && r != 0) continue;
    std::vector<int64_t> picks;
    std::vector<float> md;
    std::vector<int32_t> near;
    if (!read_payload(p, h, picks, md, near)) {
      ok = false;
      break;
    }
    if (r == 0) state.picks = picks;
    for (int64_t i = lo; i < hi; ++i) {
      state.min_dist[static_cast<size_t>(i - begin_)] = md[static_cast<size_t>(i - h.begin)];
      state.nearest[static_cast<size_t>(i - begin_)] = near[static_cast<size_t>(i - h.begin)];
    }
  }
  if (reduce(ok ? 1 : 0, dist::ReduceOp::kMin, comm_) == 0) {
    core::log_warn(where_.prefix.string(),
                   ": a greedy checkpoint file is damaged: starting afresh");
    return {};
  }
  if (comm_.rank() == 0)
    core::log_info("greedy: resuming from the checkpoint of ", best_ranks, " rank(s) at ",
                   best_picks, " of ", m_, " centres (", where_.prefix.string(), ")");
  last_picks_ = best_picks;
  next_ = best_picks + 16;
  return state;
}

void GreedyCheckpointer::stop(int64_t picks) const {
  TC_FAIL("greedy stopped after its checkpoint at ", picks, " picks (stop_after)");
}

bool GreedyCheckpointer::due(int64_t picks) {
  const double t = now_seconds();
  // The slowest rank's time since the last decision sets the pace.
  const double elapsed = max_over_ranks(t - last_time_, comm_);
  const double per_pick = elapsed / static_cast<double>(std::max<int64_t>(1, picks - last_picks_));
  const bool write_now = elapsed >= where_.interval_seconds || picks == m_;
  const double left = write_now ? where_.interval_seconds : where_.interval_seconds - elapsed;
  next_ = picks + std::max<int64_t>(1, static_cast<int64_t>(left / std::max(per_pick, 1e-9)));
  if (write_now) {
    last_time_ = t;
    last_picks_ = picks;
  }
  return write_now;
}

void GreedyCheckpointer::write(const GreedyState& s) {
  TC_ASSERT(static_cast<int64_t>(s.min_dist.size()) == rows_ &&
                static_cast<int64_t>(s.nearest.size()) == rows_,
            "greedy checkpoint: state of ", s.min_dist.size(), " rows for ", rows_);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.key_hash = key_hash_;
  h.n = n_, h.d = d_, h.m = m_, h.ranks = comm_.size(), h.rank = comm_.rank(), h.begin = begin_,
  h.rows = rows_;
  h.picks = static_cast<int64_t>(s.picks.size());
  uint64_t sum = core::fnv1a({reinterpret_cast<const char*>(&h), sizeof h});
  sum = core::fnv1a({reinterpret_cast<const char*>(s.picks.data()), s.picks.size() * 8}, sum);
  sum = core::fnv1a({reinterpret_cast<const char*>(s.min_dist.data()), s.min_dist.size() * 4}, sum);
  sum = core::fnv1a({reinterpret_cast<const char*>(s.nearest.data()), s.nearest.size() * 4}, sum);
  const fs::path final_path = file(comm_.rank(), comm_.size());
  // io::temporary_path's naming, so a later run's clean-up knows it (sampling does not link io).
  const fs::path tmp =
      final_path.string() + ".tmp-" + std::to_string(::getpid()) + "@" + core::host_name();
  FILE* f = std::fopen(tmp.c_str(), "wb");
  TC_CHECK(f != nullptr, tmp.string(),
           ": cannot write the greedy checkpoint: ", std::strerror(errno));
  const bool ok = std::fwrite(&h, sizeof h, 1, f) == 1 &&
                  std::fwrite(s.picks.data(), 8, s.picks.size(), f) == s.picks.size() &&
                  std::fwrite(s.min_dist.data(), 4, s.min_dist.size(), f) == s.min_dist.size() &&
                  std::fwrite(s.nearest.data(), 4, s.nearest.size(), f) == s.nearest.size() &&
                  std::fwrite(&sum, sizeof sum, 1, f) == 1 && std::fflush(f) == 0 &&
                  ::fsync(::fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) {
    std::error_code ec;
    fs::remove(tmp, ec);
    TC_FAIL(final_path.string(), ": writing the greedy checkpoint failed: ", std::strerror(err),
            err == ENOSPC ? " (the disk is full)" : "");
  }
  fs::rename(tmp, final_path);
  ++written_;
}

}  // namespace tc::sampling
