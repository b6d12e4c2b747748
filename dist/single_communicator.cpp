#include "dist/single_communicator.h"

#include <cstring>

#include "ops/check.h"
#include "ops/cuda/backend.h"

namespace graft::dist {

namespace {
void copy_whole(const Tensor& output, const Tensor& input) {
  if (input.device() == Device::cuda || output.device() == Device::cuda) {
    cuda::copy_bytes(output.raw_data(), input.raw_data(), output.bytes());
  } else {
    std::memcpy(output.raw_data(), input.raw_data(), output.bytes());
  }
}
class DonePending : public PendingCollective {
 public:
  void wait() override {}
  bool ready() override { return true; }
};
}  // namespace

// Checks run here too, so that code tested on one process fails the same way
// it would on many.
void SingleCommunicator::all_reduce(const Tensor& tensor, ReduceOp op) {
  check_collective_tensor(tensor, "all_reduce", *this);
  check_reduce_op(tensor, op, "all_reduce", *this);
}

std::unique_ptr<PendingCollective> SingleCommunicator::all_reduce_async(const Tensor& tensor,
                                                                        ReduceOp op) {
  all_reduce(tensor, op);
  return std::make_unique<DonePending>();
}

void SingleCommunicator::reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
  check_chunked(output, input, "reduce_scatter", *this);
  check_reduce_op(input, op, "reduce_scatter", *this);
  copy_whole(output, input);
}

void SingleCommunicator::all_gather(const Tensor& input, const Tensor& output) {
  check_chunked(input, output, "all_gather", *this);
  copy_whole(output, input);
}

void SingleCommunicator::broadcast(const Tensor& tensor, int root) {
  check_collective_tensor(tensor, "broadcast", *this);
  check_root(root, "broadcast", *this);
}

}  // namespace graft::dist
