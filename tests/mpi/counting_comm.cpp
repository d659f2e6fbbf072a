// The toy communicator (issue 25's extension point): SelfComm with a count of
// the collectives it served. One file and one registration line; the
// collective suite (collectives_test.cpp) runs on it through the factory.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tailedcore/dist/comm_factory.h"

namespace {

class CountingComm final : public tc::dist::Comm {
 public:
  static inline int64_t calls = 0;  // over every CountingComm of the process

  int rank() const override { return self_->rank(); }
  int size() const override { return self_->size(); }
  std::string backend() const override { return "counting"; }
  at::Tensor allgather(const at::Tensor& t) override { return ++calls, self_->allgather(t); }
  at::Tensor allgatherv(const at::Tensor& t) override { return ++calls, self_->allgatherv(t); }
  at::Tensor allreduce(const at::Tensor& t, tc::dist::ReduceOp op) override {
    return ++calls, self_->allreduce(t, op);
  }
  std::pair<double, int64_t> max_loc(double v, int64_t i) override {
    return ++calls, self_->max_loc(v, i);
  }
  at::Tensor broadcast(const at::Tensor& t, int root) override {
    return ++calls, self_->broadcast(t, root);
  }
  std::vector<at::Tensor> alltoallv(const std::vector<at::Tensor>& parts) override {
    return ++calls, self_->alltoallv(parts);
  }
  void barrier() override { ++calls, self_->barrier(); }
  std::unique_ptr<tc::dist::Comm> split(int, int) override {
    return std::make_unique<CountingComm>();
  }
  [[noreturn]] void abort(const std::string& message, int code) override {
    self_->abort(message, code);
  }

 private:
  std::unique_ptr<tc::dist::Comm> self_ = tc::dist::make_self_comm();
};

const bool registered = tc::dist::register_comm(
    "counting", [](const tc::dist::CommRequest&) { return std::make_unique<CountingComm>(); });

TEST(ToyCommunicator, IsBuiltByNameAndServesCollectives) {
  ASSERT_TRUE(registered);
  auto c = tc::dist::make_comm("counting");
  EXPECT_EQ(c->backend(), "counting");
  const int64_t before = CountingComm::calls;
  EXPECT_TRUE(torch::equal(c->allgather(torch::ones({2})), torch::ones({2})));
  c->barrier();
  EXPECT_EQ(CountingComm::calls, before + 2);
}

}  // namespace
