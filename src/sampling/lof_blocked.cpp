#include "tailedcore/sampling/lof_blocked.h"

#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "tailedcore/core/check.h"
#include "tailedcore/core/progress.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/sampling/projection.h"

namespace tc::sampling {
namespace {

// Positions per Gram product: bounds the [block, N, N] float32 buffer to ~32 MiB.
int64_t positions_per_block(int64_t n) {
  const int64_t budget = int64_t{8} << 20;  // floats
  return std::clamp<int64_t>(budget / std::max<int64_t>(1, n * n), 1, 256);
}

// a.b in float64 with four running sums in a fixed order: deterministic, and
// dot(a, a) is bit-equal to the squared norm, so a duplicate is at distance 0.
double dot64(const float* a, const float* b, int64_t d) {
  double s[4] = {0, 0, 0, 0};
  int64_t t = 0;
  for (; t + 4 <= d; t += 4)
    for (int u = 0; u < 4; ++u) s[u] += static_cast<double>(a[t + u]) * b[t + u];
  for (; t < d; ++t) s[0] += static_cast<double>(a[t]) * b[t];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Worst-case rounding of a float32 squared distance from the expanded form,
// relative to |a|^2 + |b|^2: the float32 dot over D terms (D u), the squared
// norms rounded to float32, and the two additions -- with a factor 2 to spare.
double float32_d2_bound(int64_t dim) { return 2.0 * (static_cast<double>(dim) + 4.0) * 0x1p-24; }

struct Neighbour {
  double d2;
  int64_t j;
};

// The k nearest among `cand` (point i's candidates, i excluded) by float64
// squared distance (|a|^2 + |b|^2) - 2 a.b clamped at 0, ascending, ties by
// index: out_d2 / out_idx [k].
void take_nearest(std::vector<Neighbour>& cand, const double* sq, const float* x, int64_t dim,
                  int64_t i, int64_t k, double* out_d2, int64_t* out_idx) {
  TC_ASSERT(static_cast<int64_t>(cand.size()) >= k, "LOF: ", cand.size(),
            " candidates for k = ", k);
  const float* xi = x + i * dim;
  for (auto& c : cand) {
    const double d2 = (sq[i] + sq[c.j]) - 2 * dot64(xi, x + c.j * dim, dim);
    c.d2 = d2 < 0 ? 0 : d2;
  }
  std::partial_sort(cand.begin(), cand.begin() + k, cand.end(),
                    [](const Neighbour& a, const Neighbour& b) {
                      return a.d2 < b.d2 || (a.d2 == b.d2 && a.j < b.j);
                    });
  for (int64_t t = 0; t < k; ++t) out_d2[t] = cand[t].d2, out_idx[t] = cand[t].j;
}

// Point i's candidates among its set's n points: the float32 Gram row ranks
// everything; only the points whose float32 distance is within twice the
// rounding bound of the float32 k-th can be among the true k.
void candidates(const float* gram_row, const float* sq32, const double* sq, int64_t n, int64_t dim,
                int64_t i, int64_t k, double sq_max, float* approx, float* top,
                std::vector<Neighbour>& cand) {
  for (int64_t j = 0; j < n; ++j) approx[j] = (sq32[i] + sq32[j]) - 2.0f * gram_row[j];
  approx[i] = std::numeric_limits<float>::infinity();
  // k-th smallest float32 distance: a running sorted list of k values.
  int64_t filled = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float v = approx[j];
    if (filled == k && !(v < top[k - 1])) continue;
    int64_t pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && top[pos - 1] > v) top[pos] = top[pos - 1], --pos;
    top[pos] = v;
  }
  const double limit =
      static_cast<double>(top[k - 1]) + 2 * float32_d2_bound(dim) * (sq[i] + sq_max);
  cand.clear();
  for (int64_t j = 0; j < n; ++j)
    if (j != i && static_cast<double>(approx[j]) <= limit) cand.push_back({0, j});
}

// The same candidates chosen by tensor operations on `device` (the float32
// bits may differ from the host's; the bound holds for any summation order):
// [m, 2] int64 on the host, (row = set * n + i, j), rows ascending -- the
// only download, about k pairs a row.
torch::Tensor candidates_on(const torch::Tensor& x, const std::vector<float>& sq32,
                            const std::vector<double>& sq, const std::vector<double>& sq_max,
                            int64_t k, c10::Device device) {
  const int64_t c = x.size(0), n = x.size(1), D = x.size(2);
  const auto xd = x.to(device);
  const auto s32 = torch::tensor(sq32).view({c, n}).to(device);
  const auto s64 = torch::tensor(sq).view({c, n}).to(device);
  const auto smax = torch::tensor(sq_max).view({c, 1}).to(device);
  auto approx = (s32.unsqueeze(2) + s32.unsqueeze(1)) - 2 * torch::bmm(xd, xd.transpose(1, 2));
  approx.diagonal(0, 1, 2).fill_(std::numeric_limits<float>::infinity());
  const auto kth = std::get<0>(approx.kthvalue(k, 2));  // [c, n]
  const auto limit = kth.to(torch::kFloat64) + 2 * float32_d2_bound(D) * (s64 + smax);
  const auto within = approx.to(torch::kFloat64) <= limit.unsqueeze(2);
  return within.view({c * n, n}).nonzero().to(torch::kCPU).contiguous();
}

// LOF of one set from its neighbour lists: knn_d [n, k] distances, knn_i [n, k].
void lof_from_neighbours(const double* knn_d, const int64_t* knn_i, int64_t n, int64_t k,
                         double* lrd, double* out) {
  for (int64_t a = 0; a < n; ++a) {
    double s = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t b = knn_i[a * k + j];
      s += std::max(knn_d[b * k + k - 1], knn_d[a * k + j]);
    }
    lrd[a] = 1.0 / (s / static_cast<double>(k) + 1e-10);
  }
  for (int64_t a = 0; a < n; ++a) {
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += lrd[knn_i[a * k + j]];
    out[a] = s / static_cast<double>(k) / lrd[a];
  }
}

// The first rows of `images`, less `offset`: [images] int64.
torch::Tensor row_starts(const core::PatchGrids& grids, const std::vector<int64_t>& images,
                         int64_t offset) {
  std::vector<int64_t> starts;
  for (const int64_t i : images) starts.push_back(grids.row_begin(i) - offset);
  return torch::tensor(starts, torch::kInt64);
}

// The blocked kernel; `device` set: the candidates chosen there (candidates_on).
at::Tensor lof_blocked(const at::Tensor& x_in, int64_t k, std::optional<c10::Device> device) {
  TC_CHECK(x_in.dim() == 3, "LOF expects [sets, points, dim]: got ", x_in.sizes());
  const int64_t B = x_in.size(0), n = x_in.size(1), D = x_in.size(2);
  TC_CHECK(n >= 2, "LOF needs at least 2 images: got ", n);
  TC_CHECK(k >= 1, "LOF k = ", k, ": expected >= 1");
  const int64_t ke = std::min(k, n - 1);
  auto out = torch::empty({B, n}, torch::kFloat64);
  const int64_t block = positions_per_block(n);
  // One Gram buffer for every block: fresh pages per block cost page faults.
  auto gram_buffer =
      device ? torch::Tensor() : torch::empty({std::min(block, B), n, n}, torch::kFloat32);
  for (int64_t b0 = 0; b0 < B; b0 += block) {
    const int64_t c = std::min(block, B - b0);
    const auto x = x_in.narrow(0, b0, c).to(torch::kFloat32).contiguous();  // [c, n, D]
    const float* xs = x.data_ptr<float>();
    std::vector<double> sq(c * n), sq_max(c, 0);
    std::vector<float> sq32(c * n);
    for (int64_t r = 0; r < c * n; ++r) {
      sq[r] = dot64(xs + r * D, xs + r * D, D);
      sq32[r] = static_cast<float>(sq[r]);
      sq_max[r / n] = std::max(sq_max[r / n], sq[r]);
    }
    torch::Tensor gram, pairs;        // the host's Gram block, or the device's candidate pairs
    std::vector<int64_t> pair_begin;  // where each row's pairs start
    const int64_t* js = nullptr;      // pairs [m, 2]: (row, j), rows ascending
    if (device) {
      pairs = candidates_on(x, sq32, sq, sq_max, ke, *device);
      js = pairs.data_ptr<int64_t>();
      pair_begin.assign(c * n + 1, 0);
      for (int64_t t = 0; t < pairs.size(0); ++t) ++pair_begin[js[2 * t] + 1];
      for (int64_t t = 0; t < c * n; ++t) pair_begin[t + 1] += pair_begin[t];
    } else {
      gram = gram_buffer.narrow(0, 0, c);
      torch::bmm_out(gram, x, x.transpose(1, 2));
    }
    std::vector<double> knn_d(c * n * ke);
    std::vector<int64_t> knn_i(c * n * ke);
#pragma omp parallel
    {
      std::vector<float> approx(n), top(ke);
      std::vector<Neighbour> cand;
      cand.reserve(n);
#pragma omp for schedule(static)
      for (int64_t r = 0; r < c * n; ++r) {
        const int64_t set = r / n, i = r % n;
        if (device) {
          cand.clear();
          for (int64_t t = pair_begin[r]; t < pair_begin[r + 1]; ++t)
            cand.push_back({0, js[2 * t + 1]});
        } else {
          candidates(gram.data_ptr<float>() + (set * n + i) * n, sq32.data() + set * n,
                     sq.data() + set * n, n, D, i, ke, sq_max[set], approx.data(), top.data(),
                     cand);
        }
        double* d = knn_d.data() + r * ke;
        take_nearest(cand, sq.data() + set * n, xs + set * n * D, D, i, ke, d,
                     knn_i.data() + r * ke);
        for (int64_t j = 0; j < ke; ++j) d[j] = std::sqrt(d[j]);
      }
    }
    double* o = out.data_ptr<double>() + b0 * n;
#pragma omp parallel
    {
      std::vector<double> lrd(n);
#pragma omp for schedule(static)
      for (int64_t set = 0; set < c; ++set)
        lof_from_neighbours(knn_d.data() + set * n * ke, knn_i.data() + set * n * ke, n, ke,
                            lrd.data(), o + set * n);
    }
  }
  return out;
}

}  // namespace

at::Tensor local_outlier_factor_blocked(const at::Tensor& x, int64_t k, int cuda_device) {
  if (cuda_device < 0) return lof_blocked(x, k, std::nullopt);
  return lof_blocked(x, k, c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(cuda_device)));
}

at::Tensor local_outlier_factor_on(const at::Tensor& x, int64_t k, c10::Device device) {
  return lof_blocked(x, k, device);
}

core::PatchGrids grids_of_equal_images(const at::Tensor& local, int64_t P, dist::Comm& comm) {
  TC_CHECK(local.dim() == 2, "LOF: features must be [rows, dim]: got ", local.sizes());
  TC_CHECK(P > 0 && local.size(0) % P == 0, "LOF: ", local.size(0),
           " rows are not a whole number of images of ", P, " patches");
  const int64_t n =
      comm.allreduce(torch::tensor({local.size(0) / P}, torch::kInt64), dist::ReduceOp::kSum)
          .item<int64_t>();
  return core::PatchGrids::uniform(n, 1, P);
}

std::vector<at::Tensor> rows_by_position(const at::Tensor& local, const core::PatchGrids& grids,
                                         int64_t proj_dim, uint64_t seed, dist::Comm& comm) {
  TC_CHECK(local.dim() == 2, "LOF: features must be [rows, dim]: got ", local.sizes());
  const auto rows_all = comm.allgather(torch::tensor({local.size(0)}, torch::kInt64));
  const int64_t dim =
      comm.allreduce(torch::tensor({local.size(1)}, torch::kInt64), dist::ReduceOp::kMax)
          .item<int64_t>();
  TC_CHECK(grids.images() > 0, "LOF: no training rows: expected at least one image");
  TC_CHECK(rows_all.sum().item<int64_t>() == grids.rows(), "LOF: ", rows_all.sum().item<int64_t>(),
           " rows over the ranks, but the images' patch grids hold ", grids.rows());
  // Each rank's images: the ones whose rows it holds (whole images, in rank order).
  std::vector<int64_t> first_image(comm.size() + 1, grids.images());
  int64_t row = 0;
  for (int r = 0; r < comm.size(); row += rows_all[r].item<int64_t>(), ++r) {
    first_image[r] = row < grids.rows() ? grids.image_of_row(row) : grids.images();
    TC_CHECK(grids.row_begin(first_image[r]) == row, "LOF: rank ", r,
             "'s rows do not start at an image");
  }
  const int64_t first_row = grids.row_begin(first_image[comm.rank()]);
  auto x = project(local.size(0) ? local : torch::empty({0, dim}), proj_dim, seed, first_row);
  const int64_t pd = x.size(1);
  const auto groups = grids.groups();
  // Rank r gets, group by group, positions shard_range(P_g, r) of this rank's images of the group.
  const auto mine_of = [&](int r, const core::PatchGrids::Group& g) {
    std::vector<int64_t> out;
    for (const int64_t i : g.images)
      if (i >= first_image[r] && i < first_image[r + 1]) out.push_back(i);
    return out;
  };
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) {
    std::vector<torch::Tensor> to_r;
    for (const auto& g : groups) {
      const auto pos = dist::shard_range(g.per_image(), r, comm.size());
      const auto imgs = mine_of(comm.rank(), g);
      // Rows image-major, then position: (image's first row - first_row) + position.
      const auto idx = row_starts(grids, imgs, first_row).view({-1, 1}) +
                       torch::arange(pos.begin, pos.end, torch::kInt64);
      to_r.push_back(x.index_select(0, idx.flatten()));
    }
    parts.push_back(torch::cat(to_r));
  }
  x = torch::Tensor();  // the parts hold the rows now
  auto got = comm.alltoallv(parts);
  parts.clear();
  // From each rank, group by group: [its images of the group, my positions, pd].
  std::vector<std::vector<torch::Tensor>> per_group(groups.size());
  for (int r = 0; r < comm.size(); ++r) {
    int64_t at = 0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const int64_t n = static_cast<int64_t>(mine_of(r, groups[gi]).size());
      const int64_t np = dist::shard_range(groups[gi].per_image(), comm.rank(), comm.size()).size();
      per_group[gi].push_back(got[r].narrow(0, at, n * np).view({n, np, pd}));
      at += n * np;
    }
    got[r] = torch::Tensor();
  }
  std::vector<torch::Tensor> out;
  for (auto& g : per_group) out.push_back(torch::cat(g));  // [N_g, my positions, pd]
  return out;
}

at::Tensor lof_of_positions(const at::Tensor& per_pos, int64_t k, int cuda_device) {
  const int64_t N = per_pos.size(0), positions = per_pos.size(1);
  if (N == 1) return torch::ones({positions, 1}, torch::kFloat32);  // see lof_blocked.h
  const int64_t block = positions_per_block(N);
  std::vector<torch::Tensor> parts;
  core::Progress progress("lof", positions);
  for (int64_t s = 0; s < positions; s += block) {
    const int64_t c = std::min(block, positions - s);
    const auto x = per_pos.narrow(1, s, c).to(torch::kFloat32);  // [N, c, d]
    parts.push_back(
        local_outlier_factor_blocked(x.transpose(0, 1), k, cuda_device).to(torch::kFloat32));
    progress.advance(c);
  }
  return parts.empty() ? torch::empty({0, N}, torch::kFloat32) : torch::cat(parts);
}

at::Tensor gather_positions(const std::vector<at::Tensor>& local, const core::PatchGrids& grids,
                            dist::Comm& comm) {
  const auto groups = grids.groups();
  TC_ASSERT(local.size() == groups.size(), "LOF: ", local.size(), " groups of positions, ",
            groups.size(), " grids");
  auto out = torch::empty({grids.rows()}, torch::kFloat32);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& g = groups[gi];
    const auto all = comm.allgatherv(local[gi].to(torch::kFloat32).contiguous());  // [P_g, N_g]
    TC_ASSERT(all.size(0) == g.per_image(), "LOF: ", all.size(0), " positions gathered of ",
              g.per_image());
    // Image k of the group owns rows row_begin(k) .. + P_g, position-major within it.
    const auto rows =
        row_starts(grids, g.images, 0).view({-1, 1}) + torch::arange(g.per_image(), torch::kInt64);
    out.index_copy_(0, rows.flatten(), all.t().contiguous().view({-1}));
  }
  return out;
}

}  // namespace tc::sampling
