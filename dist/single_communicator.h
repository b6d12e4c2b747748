// The communicator of a one-rank group: every collective is a local copy or
// nothing at all. Used when the world has one process, so a single-process
// run never starts MPI.
#pragma once

#include "dist/communicator.h"

namespace graft::dist {

class SingleCommunicator : public Communicator {
 public:
  explicit SingleCommunicator(std::string name = "world") : name_(std::move(name)) {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::string& name() const override { return name_; }

  void all_reduce(const Tensor& tensor, ReduceOp op) override;
  std::unique_ptr<PendingCollective> all_reduce_async(const Tensor& tensor, ReduceOp op) override;
  void reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  void all_gather(const Tensor& input, const Tensor& output) override;
  void broadcast(const Tensor& tensor, int root) override;
  void barrier() override {}

 private:
  std::string name_;
};

}  // namespace graft::dist
