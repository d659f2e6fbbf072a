#include "tailedcore/dist/exchange.h"

#include <torch/torch.h>

#include <climits>
#include <cstring>

#include "max_loc_pick.h"
#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"
#include "tailedcore/dist/mpi_comm.h"

namespace tc::dist {

namespace {
constexpr int64_t kHeaderWords = 4;  // value (double) and index (int64) as raw 32-bit words
}

int64_t max_loc_with_row_bytes(int64_t d) { return (kHeaderWords + d) * 4; }

RowPick max_loc_with_row(Comm& comm, double value, int64_t index, const at::Tensor& row) {
  const auto r = row.to(torch::kCPU, torch::kFloat32).contiguous().view({-1});
  const int64_t d = r.numel();
  // int32 words: every backend moves them bit for bit (a NaN value included).
  auto msg = torch::empty({kHeaderWords + d}, torch::kInt32);
  auto* w = msg.data_ptr<int32_t>();
  std::memcpy(w, &value, sizeof value);
  std::memcpy(w + 2, &index, sizeof index);
  std::memcpy(w + kHeaderWords, r.data_ptr<float>(), static_cast<size_t>(d) * sizeof(float));
  const auto all = comm.allgather(msg).contiguous();  // [size * (4 + d)]
  const int n = comm.size();
  std::vector<detail::ValueIndex> cands(n);
  const auto* a = all.data_ptr<int32_t>();
  for (int k = 0; k < n; ++k) {
    std::memcpy(&cands[k].value, a + k * (kHeaderWords + d), sizeof(double));
    std::memcpy(&cands[k].index, a + k * (kHeaderWords + d) + 2, sizeof(int64_t));
  }
  const auto [v, i] = detail::pick_max_loc(cands);
  int owner = 0;
  for (int k = 0; k < n; ++k)
    if (cands[k].index == i &&
        (cands[k].value == v || (std::isnan(v) && std::isnan(cands[k].value)))) {
      owner = k;
      break;
    }
  RowPick out{v, i, torch::empty({d}, torch::kFloat32), owner};
  std::memcpy(out.row.data_ptr<float>(), a + owner * (kHeaderWords + d) + kHeaderWords,
              static_cast<size_t>(d) * sizeof(float));
  return out;
}

std::vector<at::Tensor> alltoallv(Comm& comm, const std::vector<at::Tensor>& parts_in) {
  const int n = comm.size();
  TC_CHECK(static_cast<int>(parts_in.size()) == n, "alltoallv: ", parts_in.size(), " parts for ", n,
           " ranks");
  std::vector<at::Tensor> parts;
  for (const auto& p : parts_in) {
    TC_CHECK(p.dim() >= 1, "alltoallv: parts must have rank >= 1");
    parts.push_back(p.to(torch::kCPU).contiguous());
  }
  auto trailing = parts[0].sizes().vec();
  trailing[0] = 1;
  const int64_t row_elems = [&] {
    int64_t e = 1;
    for (size_t i = 1; i < trailing.size(); ++i) e *= trailing[i];
    return e;
  }();
  if (n == 1) return {parts[0]};
  const MPI_Comm mc = mpi_handle(comm);
  if (mc == MPI_COMM_NULL) {
    // Any backend: destination r's blocks gathered by everyone, kept by r.
    std::vector<at::Tensor> out;
    for (int r = 0; r < n; ++r) {
      const auto counts = comm.allgather(torch::tensor({parts[r].size(0)}, torch::kInt64));
      auto all = comm.allgatherv(parts[r]);
      if (r != comm.rank()) continue;
      int64_t off = 0;
      for (int s = 0; s < n; ++s) {
        const int64_t c = counts[s].item<int64_t>();
        out.push_back(all.narrow(0, off, c).clone());
        off += c;
      }
    }
    return out;
  }
  // Counts in rows of one contiguous MPI type: no int overflow below 2^31 rows a pair.
  const int64_t elem_bytes = parts[0].element_size();
  const int64_t bytes_per_row = row_elems * elem_bytes;
  std::vector<int64_t> send_rows(n), recv_rows(n);
  for (int r = 0; r < n; ++r) {
    send_rows[r] = parts[r].size(0);
    TC_CHECK(parts[r].dtype() == parts[0].dtype() && parts[r].numel() == send_rows[r] * row_elems,
             "alltoallv: part ", r, " has dtype ", parts[r].dtype(), " and shape ",
             parts[r].sizes(), ": expected the dtype and trailing shape of part 0");
  }
  check_mpi(MPI_Alltoall(send_rows.data(), 1, MPI_INT64_T, recv_rows.data(), 1, MPI_INT64_T, mc),
            "MPI_Alltoall");
  std::vector<int> sc(n), sd(n), rc(n), rd(n);
  int64_t soff = 0, roff = 0;
  for (int r = 0; r < n; ++r) {
    TC_CHECK(
        send_rows[r] <= INT_MAX && recv_rows[r] <= INT_MAX && soff <= INT_MAX && roff <= INT_MAX,
        "alltoallv: more than 2^31 rows between two ranks");
    sc[r] = static_cast<int>(send_rows[r]);
    sd[r] = static_cast<int>(soff);
    rc[r] = static_cast<int>(recv_rows[r]);
    rd[r] = static_cast<int>(roff);
    soff += send_rows[r];
    roff += recv_rows[r];
  }
  auto send = torch::empty({soff * row_elems}, parts[0].options());
  for (int r = 0, off = 0; r < n; off += sc[r], ++r)
    if (sc[r])
      std::memcpy(static_cast<char*>(send.data_ptr()) + off * bytes_per_row, parts[r].data_ptr(),
                  static_cast<size_t>(sc[r]) * bytes_per_row);
  auto recv = torch::empty({roff * row_elems}, parts[0].options());
  MPI_Datatype row_type;
  check_mpi(MPI_Type_contiguous(static_cast<int>(bytes_per_row), MPI_BYTE, &row_type),
            "MPI_Type_contiguous");
  check_mpi(MPI_Type_commit(&row_type), "MPI_Type_commit");
  const int rc_all = MPI_Alltoallv(send.data_ptr(), sc.data(), sd.data(), row_type, recv.data_ptr(),
                                   rc.data(), rd.data(), row_type, mc);
  MPI_Type_free(&row_type);
  check_mpi(rc_all, "MPI_Alltoallv");
  std::vector<at::Tensor> out;
  for (int r = 0; r < n; ++r) {
    auto shape = trailing;
    shape[0] = recv_rows[r];
    out.push_back(recv.narrow(0, rd[r] * row_elems, recv_rows[r] * row_elems).view(shape));
  }
  return out;
}

at::Tensor gather_to(Comm& comm, const at::Tensor& local, int root) {
  TC_CHECK(local.dim() >= 1, "gather_to: the tensor must have rank >= 1");
  auto empty_shape = local.sizes().vec();
  empty_shape[0] = 0;
  std::vector<at::Tensor> parts(comm.size(), torch::empty(empty_shape, local.options()));
  parts[root] = local;
  auto got = alltoallv(comm, parts);
  if (comm.rank() != root) return at::Tensor();
  return torch::cat(got);
}

}  // namespace tc::dist
