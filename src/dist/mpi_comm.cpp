#include "tailedcore/dist/mpi_comm.h"

#include <torch/torch.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "max_loc_pick.h"
#include "message_chunks.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/runtime.h"

namespace tc::dist {
namespace {

MPI_Datatype mpi_type(const torch::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return MPI_FLOAT;
    case torch::kFloat64:
      return MPI_DOUBLE;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kInt32:
      return MPI_INT32_T;
    case torch::kUInt8:
      return MPI_UINT8_T;
    case torch::kFloat16:
      return MPI_UINT16_T;  // moved as raw 16-bit words
    case torch::kBool:
      return MPI_C_BOOL;
    default:
      TC_FAIL("MpiComm::", what, ": dtype ", t.scalar_type(), " is not supported");
  }
}

class MpiComm final : public Comm {
 public:
  MpiComm(MPI_Comm comm, const MpiOptions& opts) : comm_(comm), opts_(opts) {
    TC_CHECK_RANGE(opts_.max_message_elements, int64_t{1}, int64_t{std::numeric_limits<int>::max()},
                   "MpiOptions::max_message_elements");
    check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  at::Tensor allgather(const at::Tensor& local) override {
    const auto in = host(local, "allgather");
    auto sizes = in.sizes().vec();
    if (sizes.empty()) sizes.push_back(1);
    sizes[0] *= size_;
    auto out = torch::empty(sizes, in.options());
    gather_blocks(in, std::vector<int64_t>(size_, in.numel()), out, "allgather");
    return out.to(local.device());
  }

  at::Tensor allgatherv(const at::Tensor& local) override {
    const auto in = host(local, "allgatherv");
    TC_CHECK(in.dim() >= 1, "MpiComm::allgatherv needs rank >= 1 tensors");
    int64_t row_elems = 1;
    for (int64_t d = 1; d < in.dim(); ++d) row_elems *= in.size(d);
    // (rows, elements per row) of every rank: a rank whose rows differ (an
    // empty block of another shape too) would make the counts disagree, so
    // every rank fails alike here instead of in MPI.
    const int64_t mine[2] = {in.size(0), row_elems};
    std::vector<int64_t> shapes(2 * size_);
    check_mpi(MPI_Allgather(mine, 2, MPI_INT64_T, shapes.data(), 2, MPI_INT64_T, comm_),
              "MPI_Allgather");
    std::vector<int64_t> elems(size_);
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      TC_CHECK(shapes[2 * r + 1] == shapes[1], "MpiComm::allgatherv: rank ", r, "'s rows hold ",
               shapes[2 * r + 1], " elements, rank 0's ", shapes[1],
               ": expected the same shape but for dim 0 on every rank");
      elems[r] = shapes[2 * r] * row_elems;
      total += shapes[2 * r];
    }
    auto sizes = in.sizes().vec();
    sizes[0] = total;
    auto out = torch::empty(sizes, in.options());
    gather_blocks(in, elems, out, "allgatherv");
    return out.to(local.device());
  }

  at::Tensor allreduce(const at::Tensor& t, ReduceOp op) override {
    // float16 is reduced in float32 (MPI has no half type), then cast back.
    if (t.scalar_type() == torch::kFloat16)
      return allreduce(t.to(torch::kFloat32), op).to(torch::kFloat16);
    auto in = host(t, "allreduce");
    auto out = torch::empty_like(in);
    const MPI_Op mop = op == ReduceOp::kSum ? MPI_SUM : op == ReduceOp::kMin ? MPI_MIN : MPI_MAX;
    const auto type = mpi_type(in, "allreduce");
    // Element-wise, so pieces reduce as one call would (exactly for integers;
    // a floating sum's order is MPI's choice, per message size as per rank count).
    const auto* src = static_cast<const char*>(in.data_ptr());
    auto* dst = static_cast<char*>(out.data_ptr());
    const int64_t elem = in.element_size();
    detail::for_each_chunk(in.numel(), opts_.max_message_elements, [&](int64_t offset, int count) {
      check_mpi(MPI_Allreduce(src + offset * elem, dst + offset * elem, count, type, mop, comm_),
                "MPI_Allreduce");
    });
    return out.to(t.device());
  }

  std::pair<double, int64_t> max_loc(double value, int64_t index) override {
    // Every candidate to every rank, then the same pick everywhere.
    const detail::ValueIndex mine{value, index};
    std::vector<detail::ValueIndex> all(size_);
    check_mpi(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, comm_),
              "MPI_Allgather");
    return detail::pick_max_loc(all);
  }

  at::Tensor broadcast(const at::Tensor& t, int root) override {
    TC_CHECK(root >= 0 && root < size_, "broadcast root ", root, " is not a rank of ", size_);
    auto buf = host(t, "broadcast").clone();
    bcast_in_place(buf.data_ptr(), buf.numel(), mpi_type(buf, "broadcast"), buf.element_size(),
                   root);
    return buf.to(t.device());
  }

  std::vector<at::Tensor> alltoallv(const std::vector<at::Tensor>& parts_in) override {
    TC_CHECK(static_cast<int>(parts_in.size()) == size_, "MpiComm::alltoallv: ", parts_in.size(),
             " parts for ", size_, " ranks");
    std::vector<torch::Tensor> parts;
    for (const auto& p : parts_in) {
      TC_CHECK(p.dim() >= 1, "MpiComm::alltoallv: parts must have rank >= 1");
      parts.push_back(host(p, "alltoallv"));
    }
    auto trailing = parts[0].sizes().vec();
    int64_t row_elems = 1;
    for (size_t i = 1; i < trailing.size(); ++i) row_elems *= trailing[i];
    // Counts in rows of one contiguous MPI type: no int overflow below 2^31 rows a pair.
    const int64_t bytes_per_row = row_elems * parts[0].element_size();
    std::vector<int64_t> send_rows(size_), recv_rows(size_);
    for (int r = 0; r < size_; ++r) {
      send_rows[r] = parts[r].size(0);
      TC_CHECK(parts[r].dtype() == parts[0].dtype() && parts[r].numel() == send_rows[r] * row_elems,
               "MpiComm::alltoallv: part ", r, " has dtype ", parts[r].dtype(), " and shape ",
               parts[r].sizes(), ": expected the dtype and trailing shape of part 0");
    }
    check_mpi(
        MPI_Alltoall(send_rows.data(), 1, MPI_INT64_T, recv_rows.data(), 1, MPI_INT64_T, comm_),
        "MPI_Alltoall");
    std::vector<int> sc(size_), sd(size_), rc(size_), rd(size_);
    int64_t soff = 0, roff = 0;
    for (int r = 0; r < size_; ++r) {
      TC_CHECK(
          send_rows[r] <= INT_MAX && recv_rows[r] <= INT_MAX && soff <= INT_MAX && roff <= INT_MAX,
          "MpiComm::alltoallv: more than 2^31 rows between two ranks");
      sc[r] = static_cast<int>(send_rows[r]);
      sd[r] = static_cast<int>(soff);
      rc[r] = static_cast<int>(recv_rows[r]);
      rd[r] = static_cast<int>(roff);
      soff += send_rows[r];
      roff += recv_rows[r];
    }
    auto send = torch::empty({soff * row_elems}, parts[0].options());
    for (int r = 0, off = 0; r < size_; off += sc[r], ++r)
      if (sc[r])
        std::memcpy(static_cast<char*>(send.data_ptr()) + off * bytes_per_row, parts[r].data_ptr(),
                    static_cast<size_t>(sc[r]) * bytes_per_row);
    auto recv = torch::empty({roff * row_elems}, parts[0].options());
    MPI_Datatype row_type;
    check_mpi(MPI_Type_contiguous(static_cast<int>(bytes_per_row), MPI_BYTE, &row_type),
              "MPI_Type_contiguous");
    check_mpi(MPI_Type_commit(&row_type), "MPI_Type_commit");
    const int rc_all = MPI_Alltoallv(send.data_ptr(), sc.data(), sd.data(), row_type,
                                     recv.data_ptr(), rc.data(), rd.data(), row_type, comm_);
    MPI_Type_free(&row_type);
    check_mpi(rc_all, "MPI_Alltoallv");
    std::vector<at::Tensor> out;
    for (int r = 0; r < size_; ++r) {
      auto shape = trailing;
      shape[0] = recv_rows[r];
      out.push_back(recv.narrow(0, rd[r] * row_elems, recv_rows[r] * row_elems)
                        .view(shape)
                        .to(parts_in[0].device()));
    }
    return out;
  }

  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

  std::unique_ptr<Comm> split(int color, int key) override {
    MPI_Comm sub;
    check_mpi(MPI_Comm_split(comm_, color, key, &sub), "MPI_Comm_split");
    return std::make_unique<MpiComm>(sub, opts_);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "tailedcore r%d/%d: error: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code == 0 ? 1 : exit_code);
    std::_Exit(exit_code == 0 ? 1 : exit_code);
  }

 private:
  /// The tensor's bytes on the host: CUDA tensors are copied there (and results
  /// back to their device), which lets ranks that share one GPU run the device
  /// paths over MPI; NcclComm is the fast way between GPUs.
  torch::Tensor host(const at::Tensor& t, const char* what) const {
    TC_CHECK(t.device().is_cpu() || t.device().is_cuda(), "MpiComm::", what, ": tensor is on ",
             t.device(), ": expected a host or CUDA tensor");
    return t.to(torch::kCPU).contiguous();
  }

  /// `n` elements at `data` from `root` to every rank, in calls under the limit.
  void bcast_in_place(void* data, int64_t n, MPI_Datatype type, int64_t elem, int root) {
    auto* bytes = static_cast<char*>(data);
    detail::for_each_chunk(n, opts_.max_message_elements, [&](int64_t offset, int count) {
      check_mpi(MPI_Bcast(bytes + offset * elem, count, type, root, comm_), "MPI_Bcast");
    });
  }

  /// Rank r's `elems[r]` elements (this rank's are `in`) land in `out`, in rank order.
  void gather_blocks(const torch::Tensor& in, const std::vector<int64_t>& elems, torch::Tensor& out,
                     const char* what) {
    const auto type = mpi_type(in, what);
    int64_t total = 0;
    for (auto e : elems) total += e;
    if (total <= opts_.max_message_elements) {
      // One call: every count and displacement fits in an int.
      std::vector<int> counts(size_), displs(size_);
      for (int r = 0, offset = 0; r < size_; offset += counts[r], ++r) {
        counts[r] = static_cast<int>(elems[r]);
        displs[r] = offset;
      }
      check_mpi(MPI_Allgatherv(in.data_ptr(), counts[rank_], type, out.data_ptr(), counts.data(),
                               displs.data(), type, comm_),
                "MPI_Allgatherv");
      return;
    }
    // Past the limit, displacements would overflow: each block is broadcast by
    // its owner straight into its place, in pieces under the limit.
    auto flat = out.view({-1});
    int64_t offset = 0;
    for (int r = 0; r < size_; offset += elems[r], ++r) {
      auto block = flat.narrow(0, offset, elems[r]);
      if (r == rank_) block.copy_(in.view({-1}));
      bcast_in_place(block.data_ptr(), elems[r], type, in.element_size(), r);
    }
  }

 private:
  MPI_Comm comm_;
  MpiOptions opts_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  TC_FAIL(call, " failed on rank ", rank, " (", core::host_name(), "): ", msg);
}

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm comm, const MpiOptions& opts) {
  return std::make_unique<MpiComm>(comm, opts);
}

}  // namespace tc::dist
