#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "tailedcore/core/check.h"
#include "tailedcore/dist/comm.h"

namespace tc::dist {
namespace {

class SelfComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "self"; }
  at::Tensor allgather(const at::Tensor& local) override { return local; }
  at::Tensor allgatherv(const at::Tensor& local) override { return local; }
  at::Tensor allreduce(const at::Tensor& t, ReduceOp) override { return t; }
  std::pair<double, int64_t> max_loc(double value, int64_t index) override {
    return {value, index};
  }
  at::Tensor broadcast(const at::Tensor& t, int root) override {
    TC_CHECK(root == 0, "broadcast root ", root, " does not exist in a one-rank communicator");
    return t;
  }
  std::vector<at::Tensor> alltoallv(const std::vector<at::Tensor>& parts) override {
    TC_CHECK(parts.size() == 1, "SelfComm::alltoallv: ", parts.size(), " parts for 1 rank");
    TC_CHECK(parts[0].dim() >= 1, "SelfComm::alltoallv: parts must have rank >= 1");
    return {parts[0]};
  }
  void barrier() override {}
  std::unique_ptr<Comm> split(int, int) override { return std::make_unique<SelfComm>(); }
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "tailedcore: error: %s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(exit_code == 0 ? 1 : exit_code);
  }
};

}  // namespace

std::unique_ptr<Comm> make_self_comm() { return std::make_unique<SelfComm>(); }

Range shard_range(int64_t n, int rank, int size) {
  TC_CHECK(size >= 1 && rank >= 0 && rank < size, "rank ", rank, " of ", size, " is not valid");
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace tc::dist
