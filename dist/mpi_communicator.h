// Communicator over MPI (host tensors; Open MPI in CI and on clusters). GPU
// tensors are handed to NCCL over the same ranks.
//
// Communicators use MPI_ERRORS_RETURN, so a failed call (a peer's connection
// lost, a bad argument) becomes a graft::Error carrying MPI_Error_string
// instead of MPI's default of aborting with its own message.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/watchdog.h"

namespace graft::dist {

// Throws graft::Error "<call> (<context>) failed: <MPI_Error_string>" unless
// rc is MPI_SUCCESS.
void check_mpi(int rc, const char* call, const std::string& context);

class MpiCommunicator : public Communicator {
 public:
  // Wraps comm, sets MPI_ERRORS_RETURN on it and frees it on destruction
  // unless it is MPI_COMM_WORLD. watchdog may be null (no timeout).
  MpiCommunicator(MPI_Comm comm, std::string name, std::shared_ptr<Watchdog> watchdog);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  // Collective over this communicator (MPI_Comm_split): ranks with the same
  // color form a group, ordered by key.
  std::unique_ptr<MpiCommunicator> split(int color, int key, std::string name) const;
  MPI_Comm handle() const { return comm_; }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }

  void all_reduce(const Tensor& tensor, ReduceOp op) override;
  std::unique_ptr<PendingCollective> all_reduce_async(const Tensor& tensor, ReduceOp op) override;
  void reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  void all_gather(const Tensor& input, const Tensor& output) override;
  void broadcast(const Tensor& tensor, int root) override;
  void barrier() override;

 private:
  Watchdog::Guard watch(const std::string& what) const;
  // GPU tensors go to an NCCL communicator over the same ranks, made at the
  // first GPU collective (dist/nccl_communicator.h).
  Communicator& device_communicator();
  std::unique_ptr<Communicator> device_;

  MPI_Comm comm_;
  std::string name_;
  std::shared_ptr<Watchdog> watchdog_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace graft::dist
