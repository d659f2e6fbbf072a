#include "tailedcore/sampling/votes.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "tailedcore/core/names.h"
#include "tailedcore/dist/comm.h"

namespace tc::sampling {
namespace {

const core::NameTable<Vote>& votes() {
  static const core::NameTable<Vote> table({{Vote::kMean, "mean"},
                                            {Vote::kMode, "mode"},
                                            {Vote::kNone, "none"},
                                            {Vote::kNearest, "nearest"}});
  return table;
}

bool tallies_mean(Vote v) { return v == Vote::kMean || v == Vote::kNearest; }

// The reference takes idx_j = argmin_i |count_map[i, j] - mean_j| and then
// count_map[j, idx_j] (row j, not column j): kept as is.
at::Tensor nearest_vote(const at::Tensor& mean, const at::Tensor& th_all, const at::Tensor& r_all,
                        const RowBlockVisitor& rows, dist::Comm& comm) {
  const int64_t N = mean.size(0);
  auto best = torch::full({N}, std::numeric_limits<float>::infinity());
  auto best_idx = torch::full({N}, std::numeric_limits<int64_t>::max(), torch::kInt64);
  rows([&](int64_t s, const torch::Tensor& block) {
    const int64_t c = block.size(0);
    const auto cm = (block >= th_all.narrow(0, s, c).view({c, 1})).to(torch::kFloat32) *
                    r_all.narrow(0, s, c).view({c, 1}).to(torch::kFloat32);
    auto [d, i] = (cm - mean.view({1, N})).abs().min(0);  // first minimum within the block
    const auto better = d < best;
    best = torch::where(better, d, best);
    best_idx = torch::where(better, i + s, best_idx);
  });
  const auto global_best = comm.allreduce(best, dist::ReduceOp::kMin);
  best_idx = torch::where(best == global_best, best_idx, torch::full_like(best_idx, INT64_MAX));
  best_idx = comm.allreduce(best_idx, dist::ReduceOp::kMin);  // lowest index among the minima
  // A column nobody votes for has a NaN mean: every difference is NaN and
  // torch's argmin returns the first NaN, row 0.
  best_idx = torch::where(best_idx == INT64_MAX, torch::zeros_like(best_idx), best_idx);
  auto local = torch::zeros({N}, torch::kFloat32);
  rows([&](int64_t s, const torch::Tensor& block) {
    for (int64_t j = s; j < s + block.size(0); ++j) {
      const int64_t idx = best_idx[j].item<int64_t>();
      const bool in = block[j - s][idx].item<float>() >= th_all[j].item<float>();
      local[j] = in ? static_cast<float>(r_all[j].item<int64_t>()) : 0.f;
    }
  });
  return comm.allreduce(local, dist::ReduceOp::kSum);
}

}  // namespace

Vote parse_vote(const std::string& name) { return votes().parse(name, "vote"); }

const char* vote_name(Vote v) { return votes().name(v).c_str(); }

VoteTally::VoteTally(Vote vote, int64_t columns) : vote_(vote), columns_(columns) {
  if (tallies_mean(vote_)) sum_.assign(columns_, 0), count_.assign(columns_, 0);
}

void VoteTally::add(const float* rows, int64_t count, const float* thresholds,
                    const int64_t* counts) {
  if (vote_ == Vote::kNone) return;
  const int64_t N = columns_;
  std::vector<int32_t*> tally_of_row(count, nullptr);
  if (vote_ == Vote::kMode)
    for (int64_t i = 0; i < count; ++i) {
      auto& t = mode_[counts[i]];
      if (t.empty()) t.assign(N, 0);
      tally_of_row[i] = t.data();
    }
  // Columns split across threads: each column's tallies have one writer.
  at::parallel_for(0, N, 256, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < count; ++i) {
      const float* row = rows + i * N;
      const float t = thresholds[i];
      if (tallies_mean(vote_)) {
        for (int64_t j = j0; j < j1; ++j) {
          const int64_t in = row[j] >= t;
          sum_[j] += in * counts[i];
          count_[j] += in;
        }
      } else {
        int32_t* tally = tally_of_row[i];
        for (int64_t j = j0; j < j1; ++j) tally[j] += row[j] >= t;
      }
    }
  });
}

at::Tensor VoteTally::class_sizes(const at::Tensor& th_all, const at::Tensor& r_all,
                                  const RowBlockVisitor& rows, dist::Comm& comm) const {
  const int64_t N = columns_;
  if (vote_ == Vote::kNone) return (r_all * r_all).to(torch::kFloat32) / static_cast<float>(N);
  if (tallies_mean(vote_)) {
    const auto sum = comm.allreduce(torch::tensor(sum_, torch::kInt64), dist::ReduceOp::kSum);
    const auto cnt = comm.allreduce(torch::tensor(count_, torch::kInt64), dist::ReduceOp::kSum);
    const auto mean = sum.to(torch::kFloat32) / cnt.to(torch::kFloat32);  // 0/0 = NaN, as torch
    return vote_ == Vote::kNearest ? nearest_vote(mean, th_all, r_all, rows, comm) : mean;
  }
  // mode: every rank's tallies laid out over the same ascending list of all r values.
  const auto values = std::get<0>(at::_unique(r_all, /*sorted=*/true));
  const int64_t V = values.size(0);
  auto tally = torch::zeros({V, N}, torch::kInt64);
  const int64_t* v = values.data_ptr<int64_t>();
  for (const auto& [value, counts] : mode_) {
    const int64_t row = std::lower_bound(v, v + V, value) - v;
    tally[row].copy_(torch::from_blob(const_cast<int32_t*>(counts.data()), {N}, torch::kInt32));
  }
  tally = comm.allreduce(tally, dist::ReduceOp::kSum);
  // argmax over values returns the first maximum = the smallest value on ties (scipy's mode).
  const auto [top, arg] = tally.max(0);
  return torch::where(top > 0, values.index_select(0, arg).to(torch::kFloat32),
                      torch::full({N}, NAN));
}

}  // namespace tc::sampling
