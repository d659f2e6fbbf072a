// Comm: the only way ranks talk (DESIGN.md "Distribution").
//
// Contract: every rank of a communicator calls each collective, in the same
// order, with tensors of the same dtype and device; shapes must agree except
// along dim 0 where stated (allgatherv, alltoallv). Results are on the
// inputs' device. MpiComm moves host tensors; NcclComm moves CUDA tensors in
// place and stages host tensors (nccl_comm.h); SelfComm accepts either and
// copies nothing. Results never depend on the number of ranks: gathers are in
// rank order, max_loc breaks ties by the lowest global index.
//
// Backends are built by name through one factory (comm_factory.h).
//
// Thread level: collectives are called from one thread per rank.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace tc::dist {

enum class ReduceOp { kSum, kMin, kMax };

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// The name it was made under in the factory ("self", "mpi", "nccl"): named in error messages.
  virtual std::string backend() const = 0;
  /// The CUDA ordinal whose tensors it moves without staging; -1: host tensors.
  virtual int cuda_device() const { return -1; }

  /// Equal sizes: every rank passes [n, ...]; returns [size * n, ...] in rank order.
  virtual at::Tensor allgather(const at::Tensor& local) = 0;
  /// Variable sizes along dim 0 (may be 0 on some ranks); concatenation in rank order.
  virtual at::Tensor allgatherv(const at::Tensor& local) = 0;
  /// Element-wise reduction, result on every rank.
  virtual at::Tensor allreduce(const at::Tensor& t, ReduceOp op) = 0;
  /// The (value, index) pair with the largest value over ranks; equal values
  /// resolve to the lowest index. NaN values lose to everything; when every
  /// rank offers NaN the result is NaN with the lowest index (SelfComm: its
  /// own pair). Every communicator picks by one rule (src/dist/max_loc_pick.h).
  virtual std::pair<double, int64_t> max_loc(double value, int64_t index) = 0;
  /// Returns root's tensor on every rank (non-root ranks pass a tensor of the
  /// same shape and dtype, or any tensor: only root's content matters for SelfComm).
  virtual at::Tensor broadcast(const at::Tensor& t, int root) = 0;
  /// All-to-all of row blocks: parts[r] ([n_r, ...], n_r may be 0; one dtype
  /// and trailing shape) goes to rank r; returns the blocks every rank sent to
  /// this one, in rank order. Only the destination receives a block.
  virtual std::vector<at::Tensor> alltoallv(const std::vector<at::Tensor>& parts) = 0;
  virtual void barrier() = 0;
  /// Ranks with the same color form a new communicator, ordered by (key, rank).
  virtual std::unique_ptr<Comm> split(int color, int key) = 0;
  /// Ends the whole job with this rank's message and a non-zero exit (no hang).
  [[noreturn]] virtual void abort(const std::string& message, int exit_code) = 0;
};

/// The one-rank communicator.
std::unique_ptr<Comm> make_self_comm();

/// Contiguous block [begin, end) of n items owned by `rank` of `size`: the first
/// n % size ranks get one item more. Blocks are in rank order.
struct Range {
  int64_t begin;
  int64_t end;
  int64_t size() const { return end - begin; }
};
Range shard_range(int64_t n, int rank, int size);

}  // namespace tc::dist
