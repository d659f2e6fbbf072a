#include "tailedcore/dist/nccl_comm.h"

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../max_loc_pick.h"
#include "tailedcore/core/check.h"
#include "tailedcore/core/runtime.h"
#include "tailedcore/dist/cuda_check.h"

namespace tc::dist {
namespace {

void check_nccl(ncclResult_t rc, const char* call, int rank) {
  if (rc == ncclSuccess) return;
  TC_FAIL(call, " failed on rank ", rank, " (", core::host_name(), "): ", ncclGetErrorString(rc));
}

#define TC_NCCL_CHECK(call) check_nccl((call), #call, rank_)

ncclDataType_t nccl_type(const torch::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return ncclFloat32;
    case torch::kFloat64:
      return ncclFloat64;
    case torch::kFloat16:
      return ncclFloat16;
    case torch::kBFloat16:
      return ncclBfloat16;
    case torch::kInt64:
      return ncclInt64;
    case torch::kInt32:
      return ncclInt32;
    case torch::kUInt8:
      return ncclUint8;
    case torch::kInt8:
      return ncclInt8;
    case torch::kBool:
      return ncclUint8;  // one byte each; sum/max act as "or", min as "and" after != 0
    default:
      TC_FAIL("NcclComm::", what, ": dtype ", t.scalar_type(), " is not supported");
  }
}

/// Device memory for one call's host staging: stream-ordered, freed by the
/// call that made it (the pool's release threshold is 0, so nothing is held
/// between collectives).
class StagingBuffer {
 public:
  StagingBuffer(size_t bytes, cudaStream_t stream) : stream_(stream) {
    TC_CUDA_CHECK(cudaMallocAsync(&ptr_, bytes == 0 ? 1 : bytes, stream_));
  }
  StagingBuffer(const StagingBuffer&) = delete;
  StagingBuffer& operator=(const StagingBuffer&) = delete;
  ~StagingBuffer() {
    if (ptr_) cudaFreeAsync(ptr_, stream_);
  }
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
};

size_t nbytes(const torch::Tensor& t) { return static_cast<size_t>(t.numel()) * t.element_size(); }

class NcclComm final : public Comm {
 public:
  /// Takes ownership of `comm`, bound to `device`.
  NcclComm(ncclComm_t comm, int device) : comm_(comm), device_(device) {
    TC_NCCL_CHECK(ncclCommUserRank(comm_, &rank_));
    TC_NCCL_CHECK(ncclCommCount(comm_, &size_));
    TC_CUDA_CHECK(cudaSetDevice(device_));
  }
  ~NcclComm() override {
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  int cuda_device() const override { return device_; }

  at::Tensor allgather(const at::Tensor& local) override {
    auto in = prepare(local, "allgather");
    auto sizes = in.sizes().vec();
    if (sizes.empty()) sizes.push_back(1);
    sizes[0] *= size_;
    return collective(in, sizes, [&](const void* src, void* dst) {
      TC_NCCL_CHECK(
          ncclAllGather(src, dst, in.numel(), nccl_type(in, "allgather"), comm_, stream_));
    });
  }

  at::Tensor allgatherv(const at::Tensor& local) override {
    auto in = prepare(local, "allgatherv");
    TC_CHECK(in.dim() >= 1,
             "NcclComm::allgatherv: needs a tensor with a row dimension, got a scalar");
    int64_t row_elems = 1;
    for (int64_t d = 1; d < in.dim(); ++d) row_elems *= in.size(d);
    const auto rows = gather_scalars(in.size(0));
    int64_t total = 0;
    for (auto r : rows) total += r;
    auto sizes = in.sizes().vec();
    sizes[0] = total;
    const auto type = nccl_type(in, "allgatherv");
    const size_t elem = in.element_size();
    // One broadcast per rank, grouped: each rank's block lands at its offset.
    return collective(in, sizes, [&](const void* src, void* dst) {
      TC_NCCL_CHECK(ncclGroupStart());
      int64_t offset = 0;
      for (int r = 0; r < size_; ++r) {
        const size_t count = static_cast<size_t>(rows[r] * row_elems);
        char* at = static_cast<char*>(dst) + offset * row_elems * elem;
        if (count > 0) TC_NCCL_CHECK(ncclBroadcast(src, at, count, type, r, comm_, stream_));
        offset += rows[r];
      }
      TC_NCCL_CHECK(ncclGroupEnd());
    });
  }

  at::Tensor allreduce(const at::Tensor& t, ReduceOp op) override {
    auto in = prepare(t, "allreduce");
    if (in.scalar_type() == torch::kBool) {
      auto as_byte = in.to(torch::kUInt8);
      return allreduce(as_byte, op == ReduceOp::kSum ? ReduceOp::kMax : op).to(torch::kBool);
    }
    const ncclRedOp_t nop = op == ReduceOp::kSum   ? ncclSum
                            : op == ReduceOp::kMin ? ncclMin
                                                   : ncclMax;
    return collective(in, in.sizes().vec(), [&](const void* src, void* dst) {
      TC_NCCL_CHECK(
          ncclAllReduce(src, dst, in.numel(), nccl_type(in, "allreduce"), nop, comm_, stream_));
    });
  }

  std::pair<double, int64_t> max_loc(double value, int64_t index) override {
    // Every (value, index) pair to every rank, then the same host pick as MpiComm.
    const detail::ValueIndex mine{value, index};
    std::vector<detail::ValueIndex> all(size_);
    exchange_bytes(&mine, all.data(), sizeof mine);
    return detail::pick_max_loc(all);
  }

  at::Tensor broadcast(const at::Tensor& t, int root) override {
    TC_CHECK(root >= 0 && root < size_, "NcclComm::broadcast: root ", root, " is not a rank of ",
             size_);
    auto in = prepare(t, "broadcast");
    const auto type = nccl_type(in, "broadcast");
    if (in.device().is_cuda()) {
      // Device tensors carry root's shape on every rank: no shape round trip through the host.
      auto out = torch::empty_like(in);
      TC_NCCL_CHECK(
          ncclBroadcast(in.data_ptr(), out.data_ptr(), in.numel(), type, root, comm_, stream_));
      return out;
    }
    // Host tensors: the root's shape first (as MpiComm), so other ranks may pass any tensor of the
    // dtype.
    TC_CHECK(in.dim() <= 8, "NcclComm::broadcast: at most 8 dimensions, got ", in.dim());
    std::vector<int64_t> mine(9, 0);
    mine[0] = in.dim();
    for (int64_t d = 0; d < in.dim(); ++d) mine[1 + d] = in.size(d);
    std::vector<int64_t> all(9 * size_);
    exchange_bytes(mine.data(), all.data(), mine.size() * sizeof(int64_t));
    const int64_t* shape = all.data() + 9 * root;
    const std::vector<int64_t> sizes(shape + 1, shape + 1 + shape[0]);
    int64_t count = 1;
    for (auto s : sizes) count *= s;
    return collective(in, sizes, [&](const void* src, void* dst) {
      TC_NCCL_CHECK(ncclBroadcast(src, dst, count, type, root, comm_, stream_));
    });
  }

  std::vector<at::Tensor> alltoallv(const std::vector<at::Tensor>& parts_in) override {
    TC_CHECK(static_cast<int>(parts_in.size()) == size_, "NcclComm::alltoallv: ", parts_in.size(),
             " parts for ", size_, " ranks");
    std::vector<torch::Tensor> parts;
    for (const auto& p : parts_in) {
      TC_CHECK(p.dim() >= 1, "NcclComm::alltoallv: parts must have rank >= 1");
      parts.push_back(prepare(p, "alltoallv"));
    }
    auto trailing = parts[0].sizes().vec();
    int64_t row_elems = 1;
    for (size_t i = 1; i < trailing.size(); ++i) row_elems *= trailing[i];
    std::vector<int64_t> send_rows(size_);
    for (int r = 0; r < size_; ++r) {
      send_rows[r] = parts[r].size(0);
      TC_CHECK(parts[r].dtype() == parts[0].dtype() &&
                   parts[r].numel() == send_rows[r] * row_elems &&
                   parts[r].device() == parts[0].device(),
               "NcclComm::alltoallv: part ", r, " has dtype ", parts[r].dtype(), ", shape ",
               parts[r].sizes(), " on ", parts[r].device(),
               ": expected the dtype, trailing shape and device of part 0");
    }
    // The row counts: the one host round trip (the receivers size their buffers).
    std::vector<int64_t> all_rows(static_cast<size_t>(size_) * size_);
    exchange_bytes(send_rows.data(), all_rows.data(), send_rows.size() * sizeof(int64_t));
    const auto type = nccl_type(parts[0], "alltoallv");
    const bool host = !parts[0].device().is_cuda();
    // Host parts go through one staging allocation each way, freed before returning.
    auto options = parts[0].options().device(torch::kCUDA, device_);
    std::vector<torch::Tensor> send(size_), recv(size_);
    for (int r = 0; r < size_; ++r) {
      send[r] = host ? parts[r].to(options, /*non_blocking=*/false) : parts[r];
      auto shape = trailing;
      shape[0] = all_rows[static_cast<size_t>(r) * size_ + rank_];
      recv[r] = torch::empty(shape, options);
    }
    TC_NCCL_CHECK(ncclGroupStart());
    for (int r = 0; r < size_; ++r) {
      if (send[r].numel() > 0)
        TC_NCCL_CHECK(ncclSend(send[r].data_ptr(), send[r].numel(), type, r, comm_, stream_));
      if (recv[r].numel() > 0)
        TC_NCCL_CHECK(ncclRecv(recv[r].data_ptr(), recv[r].numel(), type, r, comm_, stream_));
    }
    TC_NCCL_CHECK(ncclGroupEnd());
    std::vector<at::Tensor> out(recv.begin(), recv.end());
    if (host) {
      for (auto& t : out) t = t.to(torch::kCPU);
      TC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return out;
  }

  void barrier() override {
    int32_t one = 1;
    std::vector<int32_t> all(size_);
    exchange_bytes(&one, all.data(), sizeof one);
  }

  std::unique_ptr<Comm> split(int color, int key) override {
    TC_CHECK(color >= 0, "NcclComm::split: color ", color, " must be >= 0");
    TC_CUDA_CHECK(cudaSetDevice(device_));
    ncclComm_t sub = nullptr;
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 18, 0)
    TC_NCCL_CHECK(ncclCommSplit(comm_, color, key, &sub, nullptr));
#else
    // Older NCCL: the lowest rank of each colour makes an id; all ids travel to all ranks.
    struct Entry {
      int32_t color, key, rank, pad;
      ncclUniqueId id;
    } mine{color, key, rank_, 0, {}};
    std::vector<Entry> all(size_);
    TC_NCCL_CHECK(ncclGetUniqueId(&mine.id));
    exchange_bytes(&mine, all.data(), sizeof mine);
    std::vector<Entry> group;
    for (const auto& e : all)
      if (e.color == color) group.push_back(e);
    std::stable_sort(group.begin(), group.end(), [](const Entry& a, const Entry& b) {
      return a.key != b.key ? a.key < b.key : a.rank < b.rank;
    });
    int sub_rank = 0;
    for (size_t i = 0; i < group.size(); ++i)
      if (group[i].rank == rank_) sub_rank = static_cast<int>(i);
    TC_NCCL_CHECK(ncclCommInitRank(&sub, static_cast<int>(group.size()), group[0].id, sub_rank));
#endif
    return std::make_unique<NcclComm>(sub, device_);
  }

  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    const int code = exit_code == 0 ? 1 : exit_code;
    std::fprintf(stderr, "tailedcore r%d/%d: error: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    if (comm_) ncclCommAbort(comm_);  // unblocks this rank's pending NCCL work
    comm_ = nullptr;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  torch::Tensor prepare(const at::Tensor& t, const char* what) {
    TC_CUDA_CHECK(cudaSetDevice(device_));
    if (t.device().is_cuda())
      TC_CHECK(t.device().index() == device_, "NcclComm::", what, ": tensor is on ", t.device(),
               ", the communicator on cuda:", device_);
    else
      TC_CHECK(t.device().is_cpu(), "NcclComm::", what, ": tensor is on ", t.device());
    return t.contiguous();
  }

  /// Runs `launch(src, dst)` on device pointers. CUDA tensors: in place, queued
  /// on stream_ with no host wait. Host tensors: staged through device memory
  /// allocated for this call and freed before it returns (after the one wait).
  template <class Launch>
  torch::Tensor collective(const torch::Tensor& in, const std::vector<int64_t>& out_sizes,
                           Launch&& launch) {
    auto out = torch::empty(out_sizes, in.options());
    if (in.device().is_cuda()) {
      launch(in.data_ptr(), out.data_ptr());
      return out;
    }
    {
      StagingBuffer src(nbytes(in), stream_), dst(nbytes(out), stream_);
      if (nbytes(in) > 0)
        TC_CUDA_CHECK(
            cudaMemcpyAsync(src.get(), in.data_ptr(), nbytes(in), cudaMemcpyHostToDevice, stream_));
      launch(src.get(), dst.get());
      if (nbytes(out) > 0)
        TC_CUDA_CHECK(cudaMemcpyAsync(out.data_ptr(), dst.get(), nbytes(out),
                                      cudaMemcpyDeviceToHost, stream_));
    }
    TC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return out;
  }

  /// Host bytes: `bytes` from every rank into all[rank * bytes] (a small allgather through the
  /// device).
  void exchange_bytes(const void* mine, void* all, size_t bytes) {
    TC_CUDA_CHECK(cudaSetDevice(device_));
    {
      StagingBuffer src(bytes, stream_), dst(bytes * size_, stream_);
      TC_CUDA_CHECK(cudaMemcpyAsync(src.get(), mine, bytes, cudaMemcpyHostToDevice, stream_));
      TC_NCCL_CHECK(ncclAllGather(src.get(), dst.get(), bytes, ncclUint8, comm_, stream_));
      TC_CUDA_CHECK(
          cudaMemcpyAsync(all, dst.get(), bytes * size_, cudaMemcpyDeviceToHost, stream_));
    }
    TC_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  std::vector<int64_t> gather_scalars(int64_t value) {
    std::vector<int64_t> all(size_);
    exchange_bytes(&value, all.data(), sizeof value);
    return all;
  }

  ncclComm_t comm_ = nullptr;
  // LibTorch's default stream (the legacy default stream, LibTorch's current
  // stream unless a caller changes it): a collective on device tensors is
  // ordered after the kernels that wrote its input and before those that read
  // its output, and the caching allocator's reuse of those tensors is safe.
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device) {
  const int devices = cuda_device_count();
  TC_CHECK(devices > 0, "NcclComm on rank ", bootstrap.rank(), " (", core::host_name(),
           "): no CUDA device is visible (CUDA_VISIBLE_DEVICES='",
           std::getenv("CUDA_VISIBLE_DEVICES") ? std::getenv("CUDA_VISIBLE_DEVICES") : "", "')");
  TC_CHECK_RANGE(device, 0, devices - 1, "CUDA device");
  TC_CUDA_CHECK(cudaSetDevice(device));
  // Rank 0 makes the id; the bootstrap carries its 128 bytes to everyone.
  auto id_bytes = torch::zeros({static_cast<int64_t>(sizeof(ncclUniqueId))}, torch::kUInt8);
  ncclUniqueId id;
  if (bootstrap.rank() == 0) {
    check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", 0);
    std::memcpy(id_bytes.data_ptr<uint8_t>(), &id, sizeof id);
  }
  id_bytes = bootstrap.broadcast(id_bytes, 0).contiguous();
  std::memcpy(&id, id_bytes.data_ptr<uint8_t>(), sizeof id);
  ncclComm_t comm = nullptr;
  check_nccl(ncclCommInitRank(&comm, bootstrap.size(), id, bootstrap.rank()), "ncclCommInitRank",
             bootstrap.rank());
  return std::make_unique<NcclComm>(comm, device);
}

}  // namespace tc::dist
