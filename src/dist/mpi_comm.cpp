#include "tailedcore/dist/mpi_comm.h"

#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <vector>

#include "max_loc_pick.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/runtime.h"

namespace tc::dist {
namespace {

MPI_Datatype mpi_type(const torch::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kUInt8: return MPI_UINT8_T;
    case torch::kFloat16: return MPI_UINT16_T;  // moved as raw 16-bit words
    case torch::kBool: return MPI_C_BOOL;
    default: TC_FAIL("MpiComm::", what, ": dtype ", t.scalar_type(), " is not supported");
  }
}

class MpiComm final : public Comm {
 public:
  explicit MpiComm(MPI_Comm comm) : comm_(comm) {
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
    check_mpi(MPI_Allgather(in.data_ptr(), static_cast<int>(in.numel()), mpi_type(in, "allgather"),
                            out.data_ptr(), static_cast<int>(in.numel()), mpi_type(in, "allgather"), comm_),
              "MPI_Allgather");
    return out;
  }

  at::Tensor allgatherv(const at::Tensor& local) override {
    const auto in = host(local, "allgatherv");
    TC_CHECK(in.dim() >= 1, "MpiComm::allgatherv needs rank >= 1 tensors");
    int64_t row_elems = 1;
    for (int64_t d = 1; d < in.dim(); ++d) row_elems *= in.size(d);
    int64_t n = in.size(0);
    std::vector<int64_t> counts(size_);
    check_mpi(MPI_Allgather(&n, 1, MPI_INT64_T, counts.data(), 1, MPI_INT64_T, comm_), "MPI_Allgather");
    std::vector<int> recv(size_), displ(size_);
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      TC_CHECK(counts[r] * row_elems < std::numeric_limits<int>::max(), "allgatherv: block of rank ",
               r, " exceeds MPI's int count");
      recv[r] = static_cast<int>(counts[r] * row_elems);
      displ[r] = static_cast<int>(total * row_elems);
      total += counts[r];
    }
    auto sizes = in.sizes().vec();
    sizes[0] = total;
    auto out = torch::empty(sizes, in.options());
    const auto type = mpi_type(in, "allgatherv");
    check_mpi(MPI_Allgatherv(in.data_ptr(), static_cast<int>(in.numel()), type, out.data_ptr(),
                             recv.data(), displ.data(), type, comm_),
              "MPI_Allgatherv");
    return out;
  }

  at::Tensor allreduce(const at::Tensor& t, ReduceOp op) override {
    // float16 is reduced in float32 (MPI has no half type), then cast back.
    if (t.scalar_type() == torch::kFloat16) return allreduce(t.to(torch::kFloat32), op).to(torch::kFloat16);
    auto in = host(t, "allreduce");
    auto out = torch::empty_like(in);
    const MPI_Op mop = op == ReduceOp::kSum ? MPI_SUM : op == ReduceOp::kMin ? MPI_MIN : MPI_MAX;
    check_mpi(MPI_Allreduce(in.data_ptr(), out.data_ptr(), static_cast<int>(in.numel()),
                            mpi_type(in, "allreduce"), mop, comm_),
              "MPI_Allreduce");
    return out;
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
    check_mpi(MPI_Bcast(buf.data_ptr(), static_cast<int>(buf.numel()), mpi_type(buf, "broadcast"),
                        root, comm_),
              "MPI_Bcast");
    return buf;
  }

  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

  std::unique_ptr<Comm> split(int color, int key) override {
    MPI_Comm sub;
    check_mpi(MPI_Comm_split(comm_, color, key, &sub), "MPI_Comm_split");
    return std::make_unique<MpiComm>(sub);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "tailedcore r%d/%d: error: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code == 0 ? 1 : exit_code);
    std::_Exit(exit_code == 0 ? 1 : exit_code);
  }

 private:
  torch::Tensor host(const at::Tensor& t, const char* what) const {
    TC_CHECK(t.device().is_cpu(), "MpiComm::", what, ": tensor is on ", t.device(),
             ": MpiComm moves host tensors (use NcclComm for CUDA tensors)");
    TC_CHECK(t.numel() < std::numeric_limits<int>::max(), "MpiComm::", what, ": ", t.numel(),
             " elements exceed MPI's int count: split the tensor");
    return t.contiguous();
  }

  MPI_Comm comm_;
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

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm comm) { return std::make_unique<MpiComm>(comm); }

}  // namespace tc::dist
